"""What a dispatcher is given and must do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .limits import JobLimits


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker process needs: no access to the hub's state, only its callback URL and token."""

    mesh_id: int
    job_id: str
    callback_url: str
    token: str
    source: str
    output: str
    result_url: str
    params: dict[str, Any] = field(default_factory=dict)
    user: str = ""
    limits: JobLimits = field(default_factory=JobLimits)


class Dispatcher(Protocol):
    owns_processes: bool
    """True when each running job has a process to itself (so limits on the process bound the job)."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def submit(self, job: JobSpec) -> None:
        """Queue ``job``; it reports its own progress, completion or failure by callback."""
        ...

    def holds(self, mesh_id: int, since: float) -> bool:
        """True while ``mesh_id`` waits in this dispatcher's own queue, or was given a worker after ``since``
        (either way, its start_timeout does not run yet)."""
        ...

    def cancel(self, mesh_id: int) -> None:
        """Drop ``mesh_id``'s job if it has not started (a running one stops at its next callback)."""
        ...
