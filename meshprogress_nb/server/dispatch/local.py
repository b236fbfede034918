"""The embedded default: jobs run in a pool of local worker processes (spawned, not forked from the server)."""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .base import JobSpec
from .job import run_mesh_job

log = logging.getLogger(__name__)


class LocalDispatcher:
    """A process pool of ``size`` workers; a worker that dies takes its job to ``failed``, not the pool down."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._executor: ProcessPoolExecutor | None = None
        self._futures: dict[int, Future[str]] = {}

    async def start(self) -> None:
        self._executor = self._new_executor()

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.size, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, job: JobSpec) -> None:
        if self._executor is None:
            self._executor = self._new_executor()
        try:
            future = self._executor.submit(run_mesh_job, job)
        except BrokenProcessPool:
            self._executor = self._new_executor()
            future = self._executor.submit(run_mesh_job, job)
        self._futures[job.mesh_id] = future
        future.add_done_callback(lambda f: self._finished(job, f))

    def cancel(self, mesh_id: int) -> None:
        future = self._futures.get(mesh_id)
        if future is not None:
            future.cancel()

    def _finished(self, job: JobSpec, future: Future[str]) -> None:
        if self._futures.get(job.mesh_id) is future:
            del self._futures[job.mesh_id]
        if future.cancelled():
            return
        error = future.exception()
        if isinstance(error, BrokenProcessPool):
            log.warning("meshprogress: the worker process of mesh %d died; reporting it failed", job.mesh_id)
            _report_lost(job)
            self._executor = None  # replaced on the next submit


def _report_lost(job: JobSpec) -> None:
    """Tell the hub, with the job's own token, that its process is gone (rather than wait for stall_timeout)."""
    from ...worker.reporter import ProgressReporter

    reporter = ProgressReporter(job.callback_url, job.job_id, job.token)
    reporter.fail("The worker process died (killed or out of memory)")
    reporter.close(timeout=10)
