"""meshprogress-nb: watch long-running mesh-generation jobs live in Jupyter.

The package is a Jupyter server extension (the progress hub), a worker SDK and notebook widgets; this module
only declares the extension points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .notebook.client import Jobs

__version__ = "0.1.0"


def connect(url: str | None = None, token: str | None = None) -> Jobs:
    """The hub of the running Jupyter server: ``jobs = connect(); jobs.submit("image.png")``."""
    from .notebook.client import connect as _connect  # here: importing the package stays light

    return _connect(url, token)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds the prebuilt front end of the notebook widgets."""
    return [{"src": "labextension", "dest": "meshprogress-nb"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import MeshProgressApp

    return [{"module": "meshprogress_nb.server.app", "app": MeshProgressApp}]
