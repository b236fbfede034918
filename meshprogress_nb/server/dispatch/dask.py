"""Scale-out: jobs run as tasks on a Dask distributed cluster, and report by callback like any worker."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .base import JobSpec
from .isolated import run_isolated

log = logging.getLogger(__name__)


class DaskDispatcher:
    """Submits each job as one Dask task; cancel also cancels the task's future."""

    owns_processes = True  # each task runs its job in a child process of its own (isolated.py)

    def __init__(self, scheduler: str | None) -> None:
        self.scheduler = scheduler
        self.client: Any = None
        self._cluster: Any = None
        self._futures: dict[int, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            self._cluster = await LocalCluster(processes=True, asynchronous=True, dashboard_address=None)
            self.scheduler = self._cluster.scheduler_address
        self.client = await Client(self.scheduler, asynchronous=True)
        log.info("meshprogress: dispatching to Dask at %s", self.scheduler)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
        if self._cluster is not None:
            await self._cluster.close()

    def submit(self, job: JobSpec) -> None:
        future = self.client.submit(run_isolated, job, key=f"meshprogress-{job.mesh_id}-{job.job_id}", pure=False)
        self._futures[job.mesh_id] = future
        future.add_done_callback(lambda _: self._futures.pop(job.mesh_id, None))

    def holds(self, mesh_id: int, since: float) -> bool:
        """Dask's scheduler holds the queue: a job it has not started counts against start_timeout."""
        return False

    def cancel(self, mesh_id: int) -> None:
        future = self._futures.pop(mesh_id, None)
        if future is not None:
            task = asyncio.ensure_future(future.cancel())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
