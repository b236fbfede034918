"""The function a dispatched worker process runs: generate the mesh and report on it by callback."""

from __future__ import annotations

import logging
import os

from .base import JobSpec

log = logging.getLogger(__name__)


def run_mesh_job(job: JobSpec) -> str:
    """Run one job to its end; returns the final status the worker reported.

    Imported lazily so that the pool's processes pay for numpy and scikit-image only once they work.
    """
    from ..worker.mesher import generate_mesh
    from ..worker.reporter import JobCancelled, ProgressReporter

    reporter = ProgressReporter(job.callback_url, job.job_id, job.token)
    try:
        with reporter:
            reporter.update(0, "Starting")
            sources = job.source.split(os.pathsep) if os.pathsep in job.source else job.source
            result = generate_mesh(sources, job.output, reporter, **job.params)
            reporter.complete(result_url=job.result_url, message="Mesh written", quality=result.quality)
    except JobCancelled:
        return "cancelled"
    except Exception as exc:  # reported as failed by the reporter's context manager
        log.warning("meshprogress job %d failed: %s", job.mesh_id, exc)
        return "failed"
    return "completed"
