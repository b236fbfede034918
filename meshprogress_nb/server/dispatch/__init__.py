"""Running jobs that were created with ``dispatch: true``: a local process pool, or a Dask cluster.

Dispatched jobs report progress exactly as remote workers do, over HTTP with their callback token; the
dispatcher only starts them (and drops queued ones on cancel). A running job learns of a cancel from the
409 its next callback gets, and stops within one update.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ...models import Mesh
from ...worker.output_formats import FORMATS
from ..callbacks import InvalidInput
from ..config import MeshProgress
from ..hub import ProgressHub
from ..pacing import Pacer
from ..sources import REFUSED, SourceFolders, SourceRefused
from .base import Dispatcher, JobSpec
from .limits import JobLimits, check_params

log = logging.getLogger(__name__)

PARAMS = frozenset(
    {
        "mode",
        "kind",
        "labels",
        "levels",
        "level",
        "target_faces",
        "smooth_iterations",
        "height_scale",
        "edge_length",
        "remesh",
        "format",
    }
)


class Dispatch:
    """Listens to the hub's job events and hands dispatched jobs to a :class:`Dispatcher`."""

    def __init__(self, hub: ProgressHub, dispatcher: Dispatcher, root_dir: str, results_dir: str) -> None:
        self.hub = hub
        self.dispatcher = dispatcher
        self.root_dir = Path(root_dir)
        self.results_dir = Path(results_dir)
        self.sources = SourceFolders(root_dir, hub.config.source_dirs)
        self.limits = JobLimits.from_config(hub.config, root_dir, own_process=dispatcher.owns_processes)
        hub.listeners.append(self.on_event)
        hub.admission.append(self.admit)
        hub.dispatch_holds = dispatcher.holds

    async def admit(self, sources: list[str], params: dict[str, Any], field: str) -> None:
        """422 for a parameter past its bound or a source outside the allowed folders (one answer for all)."""
        check_params(params, self.hub.config)
        pace = Pacer()  # each source costs a few filesystem lookups
        for source in sources:
            try:
                self.sources.resolve(source)
            except SourceRefused:
                raise InvalidInput(422, REFUSED, field) from None
            await pace()

    def on_event(self, event: str, mesh: Mesh) -> None:
        if not mesh.dispatched:
            return
        if event in ("created", "retried"):
            self.dispatcher.submit(self.spec_for(mesh))
        elif event == "cancelled":
            self.dispatcher.cancel(mesh.id)

    def spec_for(self, mesh: Mesh) -> JobSpec:
        try:
            source = self.sources.resolve(mesh.source)
        except SourceRefused:
            source = mesh.source  # changed since creation: the job process refuses it again, and fails
        fmt = str(mesh.params.get("format", "ply")).lower()
        fmt = fmt if fmt in FORMATS else "ply"
        callback = self.hub.callback_for(mesh)
        return JobSpec(
            mesh_id=mesh.id,
            job_id=mesh.job_id,
            callback_url=callback["url"],
            token=callback["token"],
            source=source,
            output=str(result_path(self.results_dir, mesh, fmt)),
            result_url=self.hub.result_url(mesh),
            params={k: v for k, v in mesh.params.items() if k in PARAMS and k != "format"},
            user=mesh.user,
            limits=self.limits,
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
