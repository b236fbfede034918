"""State transitions of a mesh, as pure functions: the hub's invariants live here and nowhere else.

- Terminal states are final for an attempt; ``retry`` opens a new attempt with a new ``job_id``.
- Progress stays in [0, 100] and never decreases within an attempt; ``completed`` means 100.
- ``version`` increases with every accepted change, across attempts, so clients can drop stale payloads.
- Reports carrying a ``seq`` not above the last accepted one are duplicates or reordered: ignored.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .eta import RateState, update_rate
from .models import Mesh, Status


class Conflict(Exception):
    """The transition is not allowed in the mesh's current status (HTTP 409)."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Report:
    """One validated worker callback."""

    progress: float | None = None
    message: str | None = None
    status: Status | None = None
    seq: int | None = None
    result_url: str | None = None
    quality: dict[str, Any] | None = None


WORKER_STATUSES = frozenset({Status.PROCESSING, Status.COMPLETED, Status.FAILED})


def is_news(mesh: Mesh, report: Report) -> bool:
    """False for a duplicate or reordered report (by ``seq``); Conflict once the attempt has ended."""
    if report.seq is not None and report.seq <= mesh.last_seq:
        return False
    if mesh.status.terminal:
        raise Conflict(mesh.status, f"Mesh {mesh.id} is already {mesh.status.value}")
    return True


def apply_report(mesh: Mesh, report: Report, now: float) -> Mesh | None:
    """The mesh after ``report``, or None when the report is a duplicate (by ``seq``) and changes nothing."""
    if not is_news(mesh, report):
        return None
    status = report.status or Status.PROCESSING
    started_at = mesh.started_at if mesh.started_at is not None else now
    progress = mesh.progress if report.progress is None else max(mesh.progress, report.progress)
    if status is Status.COMPLETED:
        progress = 100.0
    return mesh.with_rate(
        update_rate(mesh.rate_state, progress, now, started_at),
        status=status,
        started_at=started_at,
        progress=progress,
        message=mesh.message if report.message is None else report.message,
        result_url=report.result_url or mesh.result_url,
        quality=report.quality or mesh.quality,
        last_seq=mesh.last_seq if report.seq is None else report.seq,
        updated_at=now,
        version=mesh.version + 1,
    )


def cancel(mesh: Mesh, now: float, message: str = "Cancelled") -> Mesh:
    """The mesh cancelled by its owner: allowed while the attempt has not ended."""
    if mesh.status.terminal:
        raise Conflict(mesh.status, f"Mesh {mesh.id} is already {mesh.status.value}")
    return dataclasses.replace(mesh, status=Status.CANCELLED, message=message, updated_at=now, version=mesh.version + 1)


def retry(mesh: Mesh, job_id: str, now: float) -> Mesh:
    """A new attempt of a failed or cancelled mesh: the old job's token stops working with its ``job_id``."""
    if mesh.status not in (Status.FAILED, Status.CANCELLED):
        raise Conflict(
            mesh.status, f"Only failed or cancelled meshes can be retried; mesh {mesh.id} is {mesh.status.value}"
        )
    return mesh.with_rate(
        RateState(),
        job_id=job_id,
        attempt=mesh.attempt + 1,
        status=Status.PENDING,
        progress=0.0,
        message="Queued for retry",
        started_at=None,
        result_url=None,
        quality=None,
        last_seq=-1,
        updated_at=now,
        version=mesh.version + 1,
    )


def stall(mesh: Mesh, now: float, timeout: float) -> Mesh:
    """The mesh failed because its worker went silent for ``timeout`` seconds."""
    return dataclasses.replace(
        mesh,
        status=Status.FAILED,
        message=f"No progress report for {round(timeout)} s: the worker stopped or lost its connection",
        updated_at=now,
        version=mesh.version + 1,
    )


def never_started(mesh: Mesh, now: float, timeout: float) -> Mesh:
    """The dispatched mesh failed because no worker took it up within ``timeout`` seconds."""
    return dataclasses.replace(
        mesh,
        status=Status.FAILED,
        message=f"Not started within {round(timeout)} s: no worker took the job (is the worker pool running, "
        'with the mesher installed: pip install "meshprogress-nb[mesher]"?)',
        updated_at=now,
        version=mesh.version + 1,
    )


@dataclass(frozen=True)
class BatchDelta:
    """How one member's change moves its batch's counters, applied atomically with the member's write."""

    progress: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    started_at: float | None = None

    @property
    def empty(self) -> bool:
        return not self.progress and not any(self.counts.values()) and self.started_at is None


def member_delta(old: Mesh, new: Mesh) -> BatchDelta:
    """The change to the batch counters when member ``old`` becomes ``new``."""
    counts: dict[str, int] = {}
    if old.status is not new.status:
        counts = {old.status.value: -1, new.status.value: 1}
    started = new.started_at if old.started_at is None and new.started_at is not None else None
    return BatchDelta(progress=new.progress - old.progress, counts=counts, started_at=started)
