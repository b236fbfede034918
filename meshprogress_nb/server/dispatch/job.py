"""The function a dispatched worker process runs: generate the mesh and report on it by callback."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..sources import SourceFolders
from .base import JobSpec
from .limits import check_input, enforced

log = logging.getLogger(__name__)

MESHER_EXTRA = 'the mesher needs the [mesher] extra: pip install "meshprogress-nb[mesher]"'


def run_mesh_job(job: JobSpec) -> str:
    """Run one job to its end; returns the final status the worker reported.

    Imported lazily so that the pool's processes pay for numpy and scikit-image only once they work. Every
    failure, a missing extra included, reaches the hub as this job's ``failed`` report: none stays pending.
    """
    from ...worker.reporter import JobCancelled, ProgressReporter

    reporter = ProgressReporter(job.callback_url, job.job_id, job.token)
    try:
        with reporter:
            reporter.update(0, "Starting")
            try:
                from ...worker.mesher import generate_mesh, import_libraries

                import_libraries(str(job.params.get("kind", "surface")))  # mapped before the memory cap applies
            except ImportError as exc:
                raise RuntimeError(f"{MESHER_EXTRA} ({exc})") from exc
            paths = _confined(job)
            with enforced(job.limits):
                check_input(paths, job.limits)
                result = generate_mesh(paths if len(paths) > 1 else paths[0], job.output, reporter, **job.params)
            reporter.complete(result_url=job.result_url, message="Mesh written", quality=result.quality)
    except JobCancelled:
        return "cancelled"
    except Exception as exc:  # reported as failed by the reporter's context manager
        log.warning("meshprogress job %d failed: %s", job.mesh_id, exc)
        return "failed"
    return "completed"


def _confined(job: JobSpec) -> list[Path]:
    """The job's sources, checked again where they are opened (a symlink may have changed since creation)."""
    if not job.limits.source_roots:
        return [Path(part) for part in job.source.split(os.pathsep)]
    root, *extra = job.limits.source_roots
    return [Path(part) for part in SourceFolders(root, extra).resolve(job.source).split(os.pathsep)]


def report_failed(job: JobSpec, message: str) -> None:
    """Tell the hub, with the job's own token, that its job ended (rather than wait for a timeout)."""
    from ...worker.reporter import ProgressReporter

    reporter = ProgressReporter(job.callback_url, job.job_id, job.token)
    reporter.fail(message)
    reporter.close(timeout=10)
