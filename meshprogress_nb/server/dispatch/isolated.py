"""One job in a process of its own, for a worker whose process is not the job's (a Dask worker runs many tasks,
on threads): the job's memory cap and alarm then bound that job alone, and a job that ignores its alarm (stuck
in native code) is killed. Costs one interpreter start per job, small beside a mesh job's seconds to minutes.

The child is ``python -m meshprogress_nb.server.dispatch.isolated``, given the pickled :class:`JobSpec` on stdin;
it prints the final status as its last line.
"""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys

from .base import JobSpec
from .job import report_failed, run_mesh_job

log = logging.getLogger(__name__)

GRACE = 10.0
"""Seconds past the job's time limit before its process is killed (its own alarm should have stopped it)."""


def run_isolated(job: JobSpec) -> str:
    """``run_mesh_job(job)`` in a child interpreter; its final status, or ``failed`` (reported) if it died."""
    limit = job.limits.time_seconds
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__],
            input=pickle.dumps(job),
            capture_output=True,
            timeout=limit + GRACE if limit else None,
            check=False,
        )
    except subprocess.TimeoutExpired:
        report_failed(job, f"Stopped after the time limit of {limit:g} s (job_time_limit)")
        return "failed"
    lines = done.stdout.decode(errors="replace").split()
    if done.returncode != 0 or not lines:
        log.warning("meshprogress: the process of mesh %d exited with %d", job.mesh_id, done.returncode)
        report_failed(job, "The worker process died (killed or out of memory)")
        return "failed"
    return lines[-1]


def _main() -> None:
    job = pickle.load(sys.stdin.buffer)
    print(run_mesh_job(job), flush=True)


if __name__ == "__main__":
    _main()
