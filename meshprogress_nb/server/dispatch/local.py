"""The embedded default: jobs run in a pool of local worker processes (spawned, not forked from the server).

Jobs wait in a :class:`~.fair_queue.FairQueue` here, not in the executor's FIFO: the pool is given at most one
job per process, the next taken from each user in turn.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .base import JobSpec
from .fair_queue import FairQueue
from .job import report_failed, run_mesh_job

log = logging.getLogger(__name__)

CLOSE_TIMEOUT = 5.0
"""Seconds the pool's processes get to exit on close before they are killed."""

OVERDUE_GRACE = 30.0  # seconds past job_time_limit before the dispatcher fails a job the process did not stop


class LocalDispatcher:
    """A process pool of ``size`` workers; a worker that dies takes its job to ``failed``, not the pool down."""

    owns_processes = True

    def __init__(self, size: int) -> None:
        self.size = size
        self._executor: ProcessPoolExecutor | None = None
        self._futures: dict[int, Future[str]] = {}
        self._waiting: FairQueue[JobSpec] = FairQueue()
        self._queued: dict[int, str] = {}  # mesh id -> job id of the attempt still waiting; cancel drops it
        self._handed_at: dict[int, float] = {}  # mesh id -> when its job was given to a process
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._executor = self._new_executor()

    async def close(self) -> None:
        """Stop the pool's processes, running jobs included: a job left running would outlive its server and
        report to no one. The store keeps them ``processing`` until a stall sweep (of this server restarted or
        of another one) fails them; queued ones fail at ``start_timeout``."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        self._waiting = FairQueue()
        self._queued.clear()
        # ProcessPoolExecutor.terminate_workers() comes with Python 3.14; before it, its process table.
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        await asyncio.to_thread(_join, processes, CLOSE_TIMEOUT)

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.size, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, job: JobSpec) -> None:
        self._waiting.push(job.user, job)
        self._queued[job.mesh_id] = job.job_id
        self._fill()

    def cancel(self, mesh_id: int) -> None:
        self._queued.pop(mesh_id, None)
        future = self._futures.get(mesh_id)
        if future is not None:
            future.cancel()

    def holds(self, mesh_id: int, since: float) -> bool:
        """True while ``mesh_id`` waits here for a free process, or was given one after ``since``."""
        return mesh_id in self._queued or self._handed_at.get(mesh_id, 0.0) > since

    def _fill(self) -> None:
        """Hand waiting jobs to the pool while it has an idle process."""
        while len(self._futures) < self.size and (job := self._waiting.pop()) is not None:
            if self._queued.get(job.mesh_id) != job.job_id:
                continue  # cancelled while it waited
            del self._queued[job.mesh_id]
            self._start(job)

    def _start(self, job: JobSpec) -> None:
        try:
            future = self._pool_submit(job)
        except Exception as exc:  # the pool cannot even take the job: fail it now, never leave it pending
            log.warning("meshprogress: the local pool could not start mesh %d: %s", job.mesh_id, exc)
            self._report(job, f"The local worker pool could not start the job: {exc}")
            return
        self._futures[job.mesh_id] = future
        self._handed_at[job.mesh_id] = time.time()
        loop = self._loop or asyncio.get_event_loop()
        future.add_done_callback(lambda f: loop.call_soon_threadsafe(self._finished, job, f))
        if job.limits.time_seconds:
            loop.call_later(job.limits.time_seconds + OVERDUE_GRACE, self._overdue, job, future)

    def _pool_submit(self, job: JobSpec) -> Future[str]:
        if self._executor is None:
            self._executor = self._new_executor()
        try:
            return self._executor.submit(run_mesh_job, job)
        except BrokenProcessPool:
            self._executor = self._new_executor()
            return self._executor.submit(run_mesh_job, job)

    def _finished(self, job: JobSpec, future: Future[str]) -> None:
        if self._futures.get(job.mesh_id) is future:
            del self._futures[job.mesh_id]
            self._handed_at.pop(job.mesh_id, None)
        self._fill()
        if future.cancelled():
            return
        error = future.exception()
        if isinstance(error, BrokenProcessPool):
            log.warning("meshprogress: the worker process of mesh %d died; reporting it failed", job.mesh_id)
            self._report(job, "The worker process died (killed or out of memory)")
            self._executor = None  # replaced on the next submit
        elif error is not None:
            log.warning("meshprogress: mesh %d could not run in the local pool: %r", job.mesh_id, error)
            self._report(job, f"The job could not run in the local worker pool: {type(error).__name__}: {error}")

    def _overdue(self, job: JobSpec, future: Future[str]) -> None:
        """A job whose process did not stop itself at its time limit (stuck outside Python) is failed here."""
        if not future.done():
            self._report(job, f"Stopped after the time limit of {job.limits.time_seconds:g} s (job_time_limit)")

    def _report(self, job: JobSpec, message: str) -> None:
        """Fail ``job`` with its own token, from a thread: the report is an HTTP call to this very server."""
        loop = self._loop or asyncio.get_event_loop()
        loop.run_in_executor(None, report_failed, job, message)


def _join(processes: list[multiprocessing.process.BaseProcess], timeout: float) -> None:
    """Wait for terminated processes (killed past ``timeout``), so none is left behind the server."""
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)
