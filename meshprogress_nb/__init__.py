"""meshprogress-nb: watch long-running mesh-generation jobs live in Jupyter.

The package is a Jupyter server extension (the progress hub), a worker SDK and notebook widgets; this module
only declares the extension points.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "meshprogress_nb.extension"}]
