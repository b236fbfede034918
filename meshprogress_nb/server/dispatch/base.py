"""What a dispatcher is given and must do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


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


class Dispatcher(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def submit(self, job: JobSpec) -> None:
        """Queue ``job``; it reports its own progress, completion or failure by callback."""
        ...

    def cancel(self, mesh_id: int) -> None:
        """Drop ``mesh_id``'s job if it has not started (a running one stops at its next callback)."""
        ...
