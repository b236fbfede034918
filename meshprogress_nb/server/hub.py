"""The progress hub's core: jobs, callbacks, authorization and stall detection, with no tornado in sight.

Handlers translate HTTP and cable frames into calls on :class:`ProgressHub`; every state change goes through
:mod:`.state` (the rules) and :meth:`Backend.save_mesh` (atomic compare-and-set plus publish).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from .. import state
from ..models import Batch, Mesh, Status, batch_payload, mesh_payload
from ..state import Conflict, Report
from .backends import Backend, MeshSpec
from .clock import Clock
from .config import MeshProgress
from .identity import Identity
from .last_known import RecentMeshes
from .pacing import Pacer
from .quotas import Quota
from .streams import encode, parse
from .throttle import CallbackThrottle
from .tokens import CallbackTokens, InvalidToken

log = logging.getLogger(__name__)

MAX_CAS_ATTEMPTS = 50


class NotFound(Exception):
    """No such mesh or batch, or not one this user may see (the same answer for both)."""


class Forbidden(Exception):
    """The user may see the job but not change it."""


class ProgressHub:
    """Creates jobs, applies worker reports, and enforces who may read or control what."""

    def __init__(
        self,
        config: MeshProgress,
        backend: Backend,
        tokens: CallbackTokens,
        *,
        api_path: str,
        callback_url: Callable[[], str],
        clock: Clock,
    ) -> None:
        self.config = config
        self.backend = backend
        self.tokens = tokens
        self.api_path = api_path
        # A function: the server's address is known only once it listens (after the hub is built).
        self._callback_url = callback_url
        self.clock = clock
        self.listeners: list[Callable[[str, Mesh], Any]] = []
        self.admission: list[Callable[[list[str], dict[str, Any], str], Awaitable[None]]] = []
        """Checks a dispatched job's sources and params must pass before it is created (they raise to refuse)."""
        self.dispatch_holds: Callable[[int, float], bool] = lambda mesh_id, since: False
        """Whether this server's dispatcher still holds a pending job (queued, or handed to a worker since)."""
        self.throttle = CallbackThrottle(config.callback_rate_limit, self._apply_report, clock)
        self.recent = RecentMeshes()
        self._stall_task: asyncio.Task[None] | None = None
        self._closing = False

    # -- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.backend.start()
        self.start_sweeps()

    def start_sweeps(self) -> None:
        """Sweep for stalled and never-started jobs every ``stall_check_interval`` on the hub's clock."""
        self._stall_task = asyncio.create_task(self._sweep_forever(), name="meshprogress-stall-sweep")

    async def close(self) -> None:
        self._closing = True
        if self._stall_task is not None:
            self._stall_task.cancel()
            await asyncio.gather(self._stall_task, return_exceptions=True)
        await self.throttle.close()
        await self.backend.close()

    # -- authorization ---------------------------------------------------------------------------------------

    def can_read(self, who: Identity, owner: str) -> bool:
        return (
            self.can_control(who, owner)
            or who.name in self.config.read_users
            or bool(who.groups & set(self.config.read_groups))
        )

    def can_control(self, who: Identity, owner: str) -> bool:
        return (
            who.name == owner or who.name in self.config.admin_users or bool(who.groups & set(self.config.admin_groups))
        )

    # -- jobs ------------------------------------------------------------------------------------------------

    @property
    def quota(self) -> Quota:
        """Each user's limits on new jobs (QuotaExceeded, 429, past them)."""
        return Quota(self.config.max_active_jobs_per_user, self.config.max_jobs_per_minute_per_user)

    def callback_for(self, mesh: Mesh) -> dict[str, str]:
        """What a worker needs to report on ``mesh``'s current attempt."""
        return {"url": self._callback_url(), "token": self.tokens.issue(mesh.id, mesh.job_id)}

    def result_url(self, mesh: Mesh) -> str:
        """The server-relative URL where this server serves a job's mesh file (the server that dispatched it)."""
        return f"{self.api_path}meshes/{mesh.id}/result"

    async def create_mesh(
        self, who: Identity, source: str, name: str, params: dict[str, Any], dispatch: bool = True
    ) -> Mesh:
        if dispatch:
            await self._admit([source], params, "source")
        spec = MeshSpec(
            user=who.name,
            source=source,
            job_id=_job_id(),
            name=name or _basename(source),
            params=params,
            dispatched=dispatch,
        )
        mesh = await self.backend.create_mesh(spec, self.clock.time(), self.quota)
        log.info("meshprogress: %s created mesh %d", who.name, mesh.id)
        self._notify("created", mesh)
        return mesh

    async def create_batch(
        self, who: Identity, sources: list[str], name: str, params: dict[str, Any], dispatch: bool = True
    ) -> tuple[Batch, list[Mesh]]:
        if dispatch:
            await self._admit(sources, params, "sources")
        pace = Pacer()
        specs = []
        for source in sources:
            spec = MeshSpec(who.name, source, _job_id(), _basename(source), params=params, dispatched=dispatch)
            specs.append(spec)
            await pace()
        batch, meshes = await self.backend.create_batch(who.name, name, specs, self.clock.time(), self.quota)
        log.info("meshprogress: %s created batch %d of %d meshes", who.name, batch.id, len(meshes))
        for mesh in meshes:
            self._notify("created", mesh)
            await pace()
        return batch, meshes

    async def mesh_for(self, who: Identity, mesh_id: int) -> Mesh:
        mesh = await self.backend.get_mesh(mesh_id)
        if mesh is None or not self.can_read(who, mesh.user):
            raise NotFound(f"Mesh {mesh_id} not found")
        return mesh

    async def batch_for(self, who: Identity, batch_id: int) -> Batch:
        batch = await self.backend.get_batch(batch_id)
        if batch is None or not self.can_read(who, batch.user):
            raise NotFound(f"Batch {batch_id} not found")
        return batch

    async def list_meshes(
        self, who: Identity, status: Status | None, limit: int = 200, before: int | None = None
    ) -> list[Mesh]:
        return await self.backend.list_meshes(who.name, status, limit, before)

    async def batch_members(self, who: Identity, batch_id: int, status: Status | None, limit: int = 200) -> list[Mesh]:
        """A batch's members (in ``status``), for whoever may read the batch: exact where the user's newest-meshes
        list is a window, and open to readers and admins, whose lists hold only their own jobs."""
        batch = await self.batch_for(who, batch_id)
        meshes = await self.backend.get_meshes(batch.mesh_ids)
        return [m for m in meshes if status is None or m.status is status][:limit]

    async def list_batches(self, who: Identity, limit: int = 100, before: int | None = None) -> list[Batch]:
        return await self.backend.list_batches(who.name, limit, before)

    async def cancel(self, who: Identity, mesh_id: int) -> Mesh:
        await self._controlled(who, mesh_id)
        mesh = await self._transition(mesh_id, lambda m: state.cancel(m, self.clock.time(), f"Cancelled by {who.name}"))
        log.info("meshprogress: %s cancelled mesh %d", who.name, mesh_id)
        self._notify("cancelled", mesh)
        return mesh

    async def retry(self, who: Identity, mesh_id: int) -> Mesh:
        await self._controlled(who, mesh_id)
        mesh = await self._transition(mesh_id, lambda m: state.retry(m, _job_id(), self.clock.time()))
        log.info("meshprogress: %s retried mesh %d (attempt %d)", who.name, mesh_id, mesh.attempt)
        self._notify("retried", mesh)
        return mesh

    async def cancel_batch(self, who: Identity, batch_id: int) -> Batch:
        return await self._each_member(who, batch_id, self.cancel)

    async def retry_batch(self, who: Identity, batch_id: int) -> Batch:
        return await self._each_member(who, batch_id, self.retry)

    async def _each_member(self, who: Identity, batch_id: int, action: Callable[..., Any]) -> Batch:
        batch = await self.batch_for(who, batch_id)
        if not self.can_control(who, batch.user):
            raise Forbidden(f"Only the owner of batch {batch_id} may change it")
        pace = Pacer()
        for mesh_id in batch.mesh_ids:
            with contextlib.suppress(Conflict):  # members already in a state the action does not apply to
                await action(who, mesh_id)
            await pace()
        return await self.batch_for(who, batch_id)

    async def _controlled(self, who: Identity, mesh_id: int) -> Mesh:
        mesh = await self.mesh_for(who, mesh_id)
        if not self.can_control(who, mesh.user):
            raise Forbidden(f"Only the owner of mesh {mesh_id} may change it")
        return mesh

    # -- worker callbacks ------------------------------------------------------------------------------------

    async def report(self, token: str | None, job_id: str, report: Report) -> bool:
        """Apply a worker's report. True if it changed the mesh, False if it was a duplicate.

        Raises InvalidToken (401) unless the token is valid and names this job's current attempt, and
        Conflict (409) once the attempt has ended. The mesh's state comes from this server's hint when it has
        one that accepts the report; a refusal is always decided on the store's state.
        """
        claims = self.tokens.verify(token)
        if claims.job_id != job_id:
            raise InvalidToken
        mesh = self.recent.get(claims.mesh_id)
        if mesh is None or mesh.job_id != job_id or mesh.status.terminal:
            mesh = await self.backend.get_mesh(claims.mesh_id)
            if mesh is None or mesh.job_id != job_id:
                raise InvalidToken
            self.recent.remember(mesh)
        if not state.is_news(mesh, report):
            return False  # a hint with this job's seq: the store's seq is at least as far on
        applied = await self.throttle.submit((mesh.id, job_id), report)
        return True if applied is None else bool(applied)  # None: merged, written at the job's next slot

    async def _apply_report(self, key: tuple[int, str], report: Report) -> bool:
        mesh_id, job_id = key
        applied = True

        def change(current: Mesh) -> Mesh | None:
            nonlocal applied
            if current.job_id != job_id:
                raise InvalidToken
            updated = state.apply_report(current, report, self.clock.time())
            applied = updated is not None
            return updated

        try:
            mesh = await self._transition(mesh_id, change, hint=self.recent.get(mesh_id))
        except NotFound as exc:  # the store lost the mesh (e.g. a Redis without persistence restarted)
            raise InvalidToken from exc
        if applied and mesh.status.terminal:
            log.info("meshprogress: mesh %d %s", mesh.id, mesh.status.value)
            self._notify(mesh.status.value, mesh)
        return applied

    # -- stalls ----------------------------------------------------------------------------------------------

    async def sweep_stalled(self) -> list[int]:
        """Fail processing jobs whose worker has been silent for ``stall_timeout``; returns their ids."""
        timeout = self.config.stall_timeout
        cutoff = self.clock.time() - timeout

        def change(current: Mesh) -> Mesh | None:
            if current.status is not Status.PROCESSING or current.updated_at > cutoff:
                return None  # it reported in the meantime
            return state.stall(current, self.clock.time(), timeout)

        ids = await self.backend.stalled(cutoff, limit=1000)
        return await self._fail_each(ids, change, "stalled")

    async def sweep_unstarted(self) -> list[int]:
        """Fail dispatched jobs still pending ``start_timeout`` after their creation or retry that this server's
        dispatcher does not hold: no worker will report on them (broken pool, missing extra, lost queue)."""
        timeout = self.config.start_timeout
        cutoff = self.clock.time() - timeout

        def change(current: Mesh) -> Mesh | None:
            if current.status is not Status.PENDING or not current.dispatched or current.updated_at > cutoff:
                return None
            return state.never_started(current, self.clock.time(), timeout)

        ids = [i for i in await self.backend.unstarted(cutoff, limit=10_000) if not self.dispatch_holds(i, cutoff)]
        return await self._fail_each(ids, change, "was never started")

    async def _fail_each(self, mesh_ids: list[int], change: Callable[[Mesh], Mesh | None], why: str) -> list[int]:
        """Apply a sweep's ``change`` to each candidate (re-checked on the store's state); the ids it failed."""
        failed = []
        for mesh_id in mesh_ids:
            mesh = await self._transition(mesh_id, change)
            if mesh.status is Status.FAILED:
                log.warning("meshprogress: mesh %d %s; marked failed", mesh_id, why)
                failed.append(mesh_id)
                self._notify("failed", mesh)
        return failed

    async def _sweep_forever(self) -> None:
        # Not ``while True``: redis-py can swallow a cancellation that lands while it checks a pooled connection
        # (a zero-second timeout of its own), and the sweep would then sleep on after close().
        while not self._closing:
            await self.clock.sleep(self.config.stall_check_interval)
            self.throttle.forget_idle(older_than=60.0)
            try:
                await self.sweep_stalled()
                await self.sweep_unstarted()
            except Exception:
                log.exception("meshprogress: stall sweep failed; will try again")

    # -- streams ---------------------------------------------------------------------------------------------

    async def stream_payload(self, stream: str) -> bytes | None:
        """The current payload of a mesh's or a batch's stream, encoded."""
        kind, job_id = parse(stream)
        if kind == "mesh":
            mesh = await self.backend.get_mesh(job_id)
            return encode(mesh_payload(mesh)) if mesh else None
        batch = await self.backend.get_batch(job_id)
        return encode(batch_payload(batch)) if batch else None

    # -- internals -------------------------------------------------------------------------------------------

    async def _transition(self, mesh_id: int, change: Callable[[Mesh], Mesh | None], hint: Mesh | None = None) -> Mesh:
        """Apply ``change`` with optimistic concurrency: re-read and re-apply when another writer won.

        ``hint`` (this server's last known state, possibly stale) saves the first read. A write from it is
        compare-and-set like any other, and any other outcome (a refusal, nothing to change) is worked out
        again on the store's state before it stands.
        """
        current, from_store = hint, False
        for _ in range(MAX_CAS_ATTEMPTS):
            if current is None:
                current, from_store = await self.backend.get_mesh(mesh_id), True
                if current is None:
                    self.recent.forget(mesh_id)
                    raise NotFound(f"Mesh {mesh_id} not found")
                self.recent.remember(current)
            try:
                updated = change(current)
            except Exception:
                if from_store:
                    raise
                current = None
                continue
            if updated is None:
                if from_store:
                    return current
                current = None
                continue
            delta = state.member_delta(current, updated) if updated.batch_id is not None else None
            saved = await self.backend.save_mesh(current, updated, delta, encode(mesh_payload(updated)), _encode_batch)
            if saved.written:
                self.recent.remember(updated)
                return updated
            current, from_store = saved.current, saved.current is not None  # the winner's state, if the store said
            if current is not None:
                self.recent.remember(current)
        raise RuntimeError(f"mesh {mesh_id}: too many concurrent writers")

    async def _admit(self, sources: list[str], params: dict[str, Any], field: str) -> None:
        for check in self.admission:
            await check(sources, params, field)

    def _notify(self, event: str, mesh: Mesh) -> None:
        for listener in self.listeners:
            try:
                listener(event, mesh)
            except Exception:
                log.exception("meshprogress: %s listener failed for mesh %d", event, mesh.id)


def _encode_batch(batch: Batch) -> bytes:
    return encode(batch_payload(batch))


def _job_id() -> str:
    return uuid.uuid4().hex


def _basename(source: str) -> str:
    return source.replace("\\", "/").rstrip("/").rpartition("/")[2][:200]
