"""The backend protocol: atomic state changes of meshes and batches, and publish/subscribe of payloads."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...models import Batch, Mesh, Status
from ...state import BatchDelta
from ..quotas import NO_QUOTA, Quota

Subscriber = Callable[[bytes], None]
"""Called with each message published on a stream this process subscribed to."""


class BackendUnavailable(Exception):
    """The store cannot be reached right now (HTTP 503 with Retry-After); nothing was changed."""


@dataclass(frozen=True)
class MeshSpec:
    """What a new mesh is made from."""

    user: str
    source: str
    job_id: str
    name: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    dispatched: bool = False


def new_mesh(mesh_id: int, spec: MeshSpec, batch_id: int | None, now: float) -> Mesh:
    """The first state of a mesh the store just gave ``mesh_id``."""
    return Mesh(
        id=mesh_id,
        user=spec.user,
        source=spec.source,
        job_id=spec.job_id,
        name=spec.name,
        params=spec.params,
        dispatched=spec.dispatched,
        batch_id=batch_id,
        created_at=now,
        updated_at=now,
    )


def new_batch(batch_id: int, user: str, name: str, meshes: list[Mesh], now: float) -> Batch:
    """The first state of a batch of freshly created ``meshes``."""
    return Batch(
        id=batch_id,
        user=user,
        name=name,
        mesh_ids=[m.id for m in meshes],
        created_at=now,
        updated_at=now,
        counts={"pending": len(meshes)},
    )


BatchEncoder = Callable[[Batch], bytes]
"""Encodes a batch's payload; the backend publishes it after a member's write changed the batch."""


@dataclass(frozen=True)
class Saved:
    """What :meth:`Backend.save_mesh` did."""

    written: bool
    batch: Batch | None = None
    """The updated batch, when the mesh is a member of one."""
    current: Mesh | None = None
    """Not written: the stored mesh, when the backend read it in the same step (the caller then need not)."""


class Backend(Protocol):
    """State and fan-out, shared by every server that uses the same backend."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def create_mesh(self, spec: MeshSpec, now: float, quota: Quota = NO_QUOTA) -> Mesh:
        """A new mesh with an id never issued before, even by a store that lost its data (see :mod:`.ids`).
        Raises QuotaExceeded, creating nothing, when its user is over ``quota``."""
        ...

    async def create_batch(
        self, user: str, name: str, specs: list[MeshSpec], now: float, quota: Quota = NO_QUOTA
    ) -> tuple[Batch, list[Mesh]]:
        """A new batch of ``len(specs)`` meshes, counted as that many jobs against ``quota``."""
        ...

    async def get_mesh(self, mesh_id: int) -> Mesh | None: ...

    async def get_meshes(self, mesh_ids: list[int]) -> list[Mesh]: ...

    async def list_meshes(self, user: str, status: Status | None, limit: int, before: int | None = None) -> list[Mesh]:
        """The user's newest meshes with an id below ``before`` (all when None), newest first."""
        ...

    async def get_batch(self, batch_id: int) -> Batch | None: ...

    async def list_batches(self, user: str, limit: int, before: int | None = None) -> list[Batch]: ...

    async def save_mesh(
        self, old: Mesh, new: Mesh, delta: BatchDelta | None, mesh_message: bytes, batch_message: BatchEncoder
    ) -> Saved:
        """Write ``new`` only if the stored version is still ``old.version``; apply ``delta`` to its batch and
        publish ``mesh_message`` on the mesh's stream in the same atomic step, then the updated batch,
        encoded by ``batch_message``, on the batch's stream."""
        ...

    async def stalled(self, before: float, limit: int) -> list[int]:
        """Ids of processing meshes whose last change is older than ``before``."""
        ...

    async def unstarted(self, before: float, limit: int) -> list[int]:
        """Ids of pending dispatched meshes, oldest first, created or retried before ``before``."""
        ...

    async def publish(self, stream: str, message: bytes) -> None: ...

    async def subscribe(self, stream: str, subscriber: Subscriber) -> None:
        """Returns once messages published from now on will reach ``subscriber``."""
        ...

    async def unsubscribe(self, stream: str, subscriber: Subscriber) -> None: ...

    def on_reconnect(self, callback: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Call ``callback`` after the subscriptions were lost and restored (messages may have been missed)."""
        ...
