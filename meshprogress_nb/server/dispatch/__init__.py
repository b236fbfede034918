"""Running jobs that were created with ``dispatch: true``: a local process pool, or a Dask cluster.

Dispatched jobs report progress exactly as remote workers do, over HTTP with their callback token; the
dispatcher only starts them (and drops queued ones on cancel). A running job learns of a cancel from the
409 its next callback gets, and stops within one update.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ...models import Mesh
from ...worker.format_names import FORMATS
from ..config import MeshProgress
from ..hub import ProgressHub
from .base import Dispatcher, JobSpec

log = logging.getLogger(__name__)

PARAMS = frozenset({"mode", "target_faces", "smooth_iterations", "format"})


class Dispatch:
    """Listens to the hub's job events and hands dispatched jobs to a :class:`Dispatcher`."""

    def __init__(self, hub: ProgressHub, dispatcher: Dispatcher, root_dir: str, results_dir: str) -> None:
        self.hub = hub
        self.dispatcher = dispatcher
        self.root_dir = Path(root_dir)
        self.results_dir = Path(results_dir)
        hub.listeners.append(self.on_event)

    def on_event(self, event: str, mesh: Mesh) -> None:
        if not mesh.dispatched:
            return
        if event in ("created", "retried"):
            self.dispatcher.submit(self.spec_for(mesh))
        elif event == "cancelled":
            self.dispatcher.cancel(mesh.id)

    def spec_for(self, mesh: Mesh) -> JobSpec:
        source = Path(mesh.source).expanduser()
        if not source.is_absolute():
            source = self.root_dir / source
        fmt = str(mesh.params.get("format", "ply")).lower()
        fmt = fmt if fmt in FORMATS else "ply"
        callback = self.hub.callback_for(mesh)
        return JobSpec(
            mesh_id=mesh.id,
            job_id=mesh.job_id,
            callback_url=callback["url"],
            token=callback["token"],
            source=str(source),
            output=str(result_path(self.results_dir, mesh, fmt)),
            result_url=self.hub.result_url(mesh),
            params={k: v for k, v in mesh.params.items() if k in PARAMS and k != "format"},
        )


def result_path(results_dir: Path, mesh: Mesh, fmt: str) -> Path:
    """Where the dispatched attempt of ``mesh`` writes its mesh file."""
    return results_dir / f"mesh-{mesh.id}-attempt-{mesh.attempt}.{fmt}"


def find_result(results_dir: Path, mesh: Mesh) -> Path | None:
    for fmt in sorted(FORMATS):
        path = result_path(results_dir, mesh, fmt)
        if path.is_file():
            return path
    return None


def preview_path(result: Path) -> Path:
    """Where a worker writes the decimated copy of ``result`` that browsers preview (binary PLY, triangles)."""
    return result.with_name(f"{result.stem}.preview.ply")


def find_preview(results_dir: Path, mesh: Mesh, max_bytes: int) -> Path | None:
    """The file to preview ``mesh`` from: the worker's preview, else the result itself if at most ``max_bytes``."""
    result = find_result(results_dir, mesh)
    if result is None:
        return None
    preview = preview_path(result)
    if preview.is_file():
        return preview
    return result if result.stat().st_size <= max_bytes else None


def make_dispatcher(config: MeshProgress) -> Dispatcher | None:
    if config.dispatcher == "local":
        from .local import LocalDispatcher

        return LocalDispatcher(config.pool_size)
    if config.dispatcher == "dask":
        from .dask import DaskDispatcher

        return DaskDispatcher(config.dask_scheduler or None)
    return None


__all__ = [
    "Dispatch",
    "Dispatcher",
    "JobSpec",
    "find_preview",
    "find_result",
    "make_dispatcher",
    "preview_path",
    "result_path",
]
