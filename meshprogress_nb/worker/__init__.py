"""What runs on workers: the reporting SDK (standard library only) and the image-to-mesh generator.

``from meshprogress_nb.worker import ProgressReporter`` needs nothing but Python; ``generate_mesh`` (imported on
first use) needs the ``[mesher]`` extra (numpy, Pillow, scikit-image).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .reporter import CallbackAuthError, JobCancelled, ProgressReporter

if TYPE_CHECKING:
    from .mesher import MeshResult, generate_mesh

__all__ = ["CallbackAuthError", "JobCancelled", "MeshResult", "ProgressReporter", "generate_mesh"]


def __getattr__(name: str) -> Any:
    if name in ("generate_mesh", "MeshResult"):
        from . import mesher

        return getattr(mesher, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
