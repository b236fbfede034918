"""The one state model of meshes and batches, and the one payload shape every view shows.

Cable channels, REST handlers, widgets and the terminal demo all render :func:`mesh_payload` /
:func:`batch_payload`; none of them recomputes what the model knows.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from .eta import RateState, estimate_remaining


class Status(str, Enum):
    """Lifecycle of one attempt: ``pending -> processing -> completed | failed | cancelled``."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})
STATUS_COUNTS = ("pending", "processing", "completed", "failed", "cancelled")


def iso(ts: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC string with milliseconds (what JavaScript's Date parses)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Mesh:
    """One mesh-generation job. ``job_id`` and ``attempt`` change on retry; ``id`` and ``version`` never reset."""

    id: int
    user: str
    source: str
    job_id: str
    name: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    batch_id: int | None = None
    dispatched: bool = False
    status: Status = Status.PENDING
    progress: float = 0.0
    message: str = ""
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    updated_at: float = field(default_factory=time.time)
    result_url: str | None = None
    quality: dict[str, Any] | None = None
    version: int = 1
    attempt: int = 1
    last_seq: int = -1
    rate: float | None = None
    rate_at: float | None = None
    rate_progress: float = 0.0

    @property
    def rate_state(self) -> RateState:
        return RateState(rate=self.rate, sampled_at=self.rate_at, sampled_progress=self.rate_progress)

    def with_rate(self, state: RateState, **changes: Any) -> Mesh:
        """This mesh with the rate ``state`` and any other ``changes``, in one copy.

        Every accepted callback makes one, so it is not ``dataclasses.replace``, whose per-call walk over the
        fields was 6 % of the service's time under load (bench/run.py, py-spy): the copy takes this mesh's
        values and the changes, which must name fields (checked, as ``replace`` would).
        """
        unknown = changes.keys() - MESH_FIELD_NAMES
        if unknown:
            raise TypeError(f"Mesh has no field {', '.join(sorted(unknown))}")
        copied = object.__new__(Mesh)
        copied.__dict__.update(self.__dict__)
        copied.__dict__.update(changes, rate=state.rate, rate_at=state.sampled_at, rate_progress=state.sampled_progress)
        return copied

    def estimated_remaining(self, now: float | None = None) -> int | None:
        if self.status is not Status.PROCESSING:
            return None
        return estimate_remaining(self.rate_state, self.progress, time.time() if now is None else now, self.started_at)


MESH_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(Mesh))


@dataclass
class Batch:
    """A set of meshes submitted together; its counters are kept consistent with its members by the store."""

    id: int
    user: str
    mesh_ids: list[int]
    name: str = ""
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    updated_at: float = field(default_factory=time.time)
    progress_sum: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    version: int = 1

    @property
    def total(self) -> int:
        return len(self.mesh_ids)

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def progress(self) -> float:
        return round(self.progress_sum / self.total, 2) if self.total else 0.0

    @property
    def status(self) -> Status:
        finished = self.count("completed") + self.count("failed") + self.count("cancelled")
        if finished < self.total:
            return Status.PENDING if self.count("pending") == self.total else Status.PROCESSING
        if self.count("cancelled") == self.total:
            return Status.CANCELLED
        return Status.FAILED if self.count("failed") else Status.COMPLETED

    def estimated_remaining(self, now: float | None = None) -> int | None:
        """Remaining seconds from the batch's mean rate since its first member started.

        Members run in parallel pools, so the aggregate progress is close to linear and the whole-batch
        average is a steadier estimate than any one member's.
        """
        if self.status is not Status.PROCESSING or self.started_at is None:
            return None
        now = time.time() if now is None else now
        elapsed = now - self.started_at
        progress = self.progress
        if progress <= 0 or elapsed <= 0 or progress >= 100:
            return None
        return max(0, round(elapsed * (100.0 - progress) / progress))


def mesh_payload(mesh: Mesh, now: float | None = None) -> dict[str, Any]:
    """What ``MeshProgressChannel`` transmits: the seed's fields plus ``version``, ``name``, ``batch_id``."""
    payload: dict[str, Any] = {
        "mesh_id": mesh.id,
        "status": mesh.status.value,
        "progress": mesh.progress,
        "message": mesh.message,
        "updated_at": iso(mesh.updated_at),
        "estimated_remaining": mesh.estimated_remaining(now),
        "version": mesh.version,
        "name": mesh.name,
        "batch_id": mesh.batch_id,
        "result_url": mesh.result_url if mesh.status is Status.COMPLETED else None,
    }
    return payload


def mesh_record(mesh: Mesh) -> dict[str, Any]:
    """The REST representation: the payload plus the job's identity and history."""
    record = mesh_payload(mesh)
    record.update(
        id=mesh.id,
        job_id=mesh.job_id,
        user=mesh.user,
        source=mesh.source,
        params=mesh.params,
        attempt=mesh.attempt,
        created_at=iso(mesh.created_at),
        started_at=iso(mesh.started_at),
        quality=mesh.quality if mesh.status is Status.COMPLETED else None,
    )
    return record


def batch_payload(batch: Batch, now: float | None = None) -> dict[str, Any]:
    """What ``BatchProgressChannel`` transmits: the seed's fields plus per-status counts and ``version``."""
    payload: dict[str, Any] = {
        "batch_id": batch.id,
        "total": batch.total,
        **{name: batch.count(name) for name in STATUS_COUNTS},
        "progress": batch.progress,
        "status": batch.status.value,
        "estimated_remaining": batch.estimated_remaining(now),
        "updated_at": iso(batch.updated_at),
        "version": batch.version,
        "name": batch.name,
    }
    return payload


def batch_record(batch: Batch) -> dict[str, Any]:
    """The REST representation of a batch."""
    record = batch_payload(batch)
    record.update(id=batch.id, user=batch.user, mesh_ids=batch.mesh_ids, created_at=iso(batch.created_at))
    return record
