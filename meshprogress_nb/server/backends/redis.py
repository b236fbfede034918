"""The shared backend: state in Redis hashes, atomic changes by a Lua compare-and-set, fan-out by PubSub.

Every server of a JupyterHub that points at the same Redis behaves as one hub: a callback accepted by
server A is published on ``mesh_progress:{id}`` and reaches subscribers on server B.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ...models import Batch, Mesh, Status
from ...state import BatchDelta
from ..pacing import CHUNK, Pacer
from ..quotas import NO_QUOTA, Quota, too_many_active, too_many_created
from ..streams import batch_stream, mesh_stream
from .admission import ADMIT, RESERVATION_GRACE
from .autopipeline import AutoPipeline
from .base import BackendUnavailable, BatchEncoder, MeshSpec, Saved, Subscriber, new_batch, new_mesh
from .codec import COUNT_PREFIX, batch_fields, batch_from_fields, changed_fields, mesh_fields, mesh_from_fields
from .ids import NEXT_IDS
from .redis_pubsub import RedisSubscriptions

# KEYS: mesh hash, processing index, the owner's active set, [batch hash].
# ARGV: expected version, channel, message, mesh id, processing score ("" = not processing), the changed fields
#       as one JSON object of field -> encoded value (one argument packs far cheaper than 2n), the active set's
#       change ("-": the job ended, "+": a retry made it active again, "": none), then for a batch:
#       progress delta, started_at, updated_at, count field/delta pairs.
# Returns the batch's fields (none for a mesh in no batch) or, if the version differs, {the stored mesh's fields}:
# the writer retries from them without another round trip (several service processes write the same meshes).
SAVE_MESH = """
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return {redis.call('HGETALL', KEYS[1])} end
local fields = {}
for name, value in pairs(cjson.decode(ARGV[6])) do
  fields[#fields + 1] = name
  fields[#fields + 1] = value
end
redis.call('HSET', KEYS[1], unpack(fields))
if ARGV[5] == '' then redis.call('ZREM', KEYS[2], ARGV[4]) else redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4]) end
if ARGV[7] == '-' then redis.call('ZREM', KEYS[3], ARGV[4]) elseif ARGV[7] == '+' then
  redis.call('ZADD', KEYS[3], 0, ARGV[4])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
if #KEYS < 4 then return {} end
if tonumber(ARGV[8]) ~= 0 then redis.call('HINCRBYFLOAT', KEYS[4], 'progress_sum', ARGV[8]) end
if ARGV[9] ~= 'null' and redis.call('HGET', KEYS[4], 'started_at') == 'null' then
  redis.call('HSET', KEYS[4], 'started_at', ARGV[9])
end
redis.call('HSET', KEYS[4], 'updated_at', ARGV[10])
local i = 11
while i < #ARGV do
  redis.call('HINCRBY', KEYS[4], ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('HINCRBY', KEYS[4], 'version', 1)
return redis.call('HGETALL', KEYS[4])
"""

# KEYS: the unstarted index. ARGV: key prefix, before, limit. Entries of meshes no longer pending are dropped here
# (lazily, so the compare-and-set script stays as it is); the ones still pending are returned.
UNSTARTED = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local pending = {}
for _, id in ipairs(ids) do
  if redis.call('HGET', ARGV[1] .. 'mesh:' .. id, 'status') == '"pending"' then pending[#pending + 1] = id
  else redis.call('ZREM', KEYS[1], id) end
end
return pending
"""

P = ParamSpec("P")
T = TypeVar("T")


def _unavailable_on_error(method: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Turn Redis connection failures into :class:`BackendUnavailable` (answered 503, never a crash)."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise BackendUnavailable(str(exc)) from exc

    return wrapper


class RedisBackend:
    """Owns this process's Redis connection pool and its PubSub subscriptions."""

    def __init__(self, url: str, prefix: str = "") -> None:
        self.url = url
        self.prefix = prefix
        self.redis = aioredis.Redis.from_url(
            url, decode_responses=True, socket_timeout=5, socket_connect_timeout=2, health_check_interval=10
        )
        self.subscriptions = RedisSubscriptions(url, prefix)
        self.pipeline = AutoPipeline(self.redis)
        self._save_sha = hashlib.sha1(SAVE_MESH.encode(), usedforsecurity=False).hexdigest()
        self._next_ids = self.redis.register_script(NEXT_IDS)
        self._admit = self.redis.register_script(ADMIT)

    def key(self, name: str) -> str:
        return self.prefix + name

    async def start(self) -> None:
        await self.subscriptions.start()

    async def close(self) -> None:
        await self.subscriptions.close()
        await self.redis.aclose()

    @_unavailable_on_error
    async def create_mesh(self, spec: MeshSpec, now: float, quota: Quota = NO_QUOTA) -> Mesh:
        mesh_id = await self.mesh_ids(spec.user, 1, now, quota)
        mesh = new_mesh(mesh_id, spec, None, now)
        async with self.redis.pipeline(transaction=True) as pipe:
            self._queue_mesh(pipe, mesh)
            await pipe.execute()
        return mesh

    @_unavailable_on_error
    async def create_batch(
        self, user: str, name: str, specs: list[MeshSpec], now: float, quota: Quota = NO_QUOTA
    ) -> tuple[Batch, list[Mesh]]:
        last = await self.mesh_ids(user, len(specs), now, quota)
        batch_id = int(await self._next_ids(keys=[self.key("batch:next_id")], args=[1]))
        first = last - len(specs) + 1
        meshes: list[Mesh] = []
        pace = Pacer()
        for start in range(first, last + 1, CHUNK):  # one bounded pipeline at a time; the batch hash comes last
            async with self.redis.pipeline(transaction=True) as pipe:
                for mesh_id in range(start, min(start + CHUNK, last + 1)):
                    meshes.append(new_mesh(mesh_id, specs[mesh_id - first], batch_id, now))
                    self._queue_mesh(pipe, meshes[-1])
                    await pace()
                await pipe.execute()
        batch = new_batch(batch_id, user, name, meshes, now)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key(f"batch:{batch_id}"), mapping=batch_fields(batch))
            pipe.zadd(self.key(f"user:{user}:batches"), {str(batch_id): batch_id})
            await pipe.execute()
        return batch, meshes

    async def mesh_ids(self, user: str, count: int, now: float, quota: Quota) -> int:
        """The last of ``count`` new mesh ids (see :mod:`.ids`), once ``user``'s quota admits them (else
        QuotaExceeded); admitted ids count in the user's active set from here on (see :mod:`.admission`)."""
        counter = self.key("mesh:next_id")
        if not quota.limited:
            return int(await self._next_ids(keys=[counter], args=[count]))
        keys = [counter, self.key(f"user:{user}:active"), self.key(f"user:{user}:created")]
        limits = [quota.max_active, quota.max_per_minute]
        code, value, retry_after = await self._admit(
            keys=keys, args=[count, *limits, repr(now), int(now), repr(now - RESERVATION_GRACE), self.key("mesh:")]
        )
        if code == 1:
            raise too_many_active(user, value, count, quota.max_active)
        if code == 2:
            raise too_many_created(user, value, count, quota.max_per_minute, retry_after - (now - int(now)))
        return int(value)

    def _queue_mesh(self, pipe: Any, mesh: Mesh) -> None:
        pipe.hset(self.key(f"mesh:{mesh.id}"), mapping=mesh_fields(mesh))
        pipe.zadd(self.key(f"user:{mesh.user}:meshes"), {str(mesh.id): mesh.id})
        if mesh.dispatched:
            pipe.zadd(self.key("meshes:unstarted"), {str(mesh.id): mesh.updated_at})

    @_unavailable_on_error
    async def get_mesh(self, mesh_id: int) -> Mesh | None:
        fields = await self.redis.hgetall(self.key(f"mesh:{mesh_id}"))
        return mesh_from_fields(fields) if fields else None

    @_unavailable_on_error
    async def get_meshes(self, mesh_ids: list[int]) -> list[Mesh]:
        rows = await self._hashes([f"mesh:{mesh_id}" for mesh_id in mesh_ids])
        return [mesh_from_fields(fields) for fields in rows if fields]

    async def _hashes(self, names: list[str]) -> list[dict[str, str]]:
        """Many hashes in one round trip (an absent one reads as empty)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(self.key(name))
            return await pipe.execute()

    @_unavailable_on_error
    async def list_meshes(self, user: str, status: Status | None, limit: int, before: int | None = None) -> list[Mesh]:
        """The user's newest meshes (below ``before``), exactly as the embedded store's query gives them.

        A status filter pages through the user's meshes newest first, reading only each one's status, until
        ``limit`` match or none is left: exact however old the matches are, one round trip per page.
        """
        index = self.key(f"user:{user}:meshes")
        top = "+inf" if before is None else f"({before}"  # scores are ids
        if status is None:
            ids = await self.redis.zrevrangebyscore(index, top, "-inf", start=0, num=limit)
            return await self.get_meshes([int(i) for i in ids])
        page = max(2 * limit, 500)
        wanted = json.dumps(status.value)  # as the codec stores the field
        matching: list[int] = []
        start = 0
        while len(matching) < limit:
            ids = await self.redis.zrevrangebyscore(index, top, "-inf", start=start, num=page)
            if not ids:
                break
            async with self.redis.pipeline(transaction=False) as pipe:
                for mesh_id in ids:
                    pipe.hget(self.key(f"mesh:{mesh_id}"), "status")
                statuses = await pipe.execute()
            matching += [int(i) for i, s in zip(ids, statuses, strict=True) if s == wanted]
            start += page
        meshes = await self.get_meshes(matching[:limit])
        return [m for m in meshes if m.status is status]

    @_unavailable_on_error
    async def get_batch(self, batch_id: int) -> Batch | None:
        fields = await self.redis.hgetall(self.key(f"batch:{batch_id}"))
        return batch_from_fields(fields) if fields else None

    @_unavailable_on_error
    async def list_batches(self, user: str, limit: int, before: int | None = None) -> list[Batch]:
        top = "+inf" if before is None else f"({before}"
        ids = await self.redis.zrevrangebyscore(self.key(f"user:{user}:batches"), top, "-inf", start=0, num=limit)
        rows = await self._hashes([f"batch:{batch_id}" for batch_id in ids])
        return [batch_from_fields(fields) for fields in rows if fields]

    @_unavailable_on_error
    async def save_mesh(
        self, old: Mesh, new: Mesh, delta: BatchDelta | None, mesh_message: bytes, batch_message: BatchEncoder
    ) -> Saved:
        fields = changed_fields(old, new)  # the hash holds ``old`` whenever the version check passes
        keys = [self.key(f"mesh:{new.id}"), self.key("meshes:processing"), self.key(f"user:{new.user}:active")]
        score = str(new.updated_at) if new.status is Status.PROCESSING else ""
        args: list[Any] = [str(old.version), self.key(mesh_stream(new.id)), mesh_message, new.id, score]
        args += [orjson.dumps(fields), _active_change(old.status, new.status)]
        with_batch = new.batch_id is not None and delta is not None and not delta.empty
        if with_batch and delta is not None:
            keys.append(self.key(f"batch:{new.batch_id}"))
            args += [repr(delta.progress), json.dumps(delta.started_at), json.dumps(new.updated_at)]
            for status, change in delta.counts.items():
                args += [COUNT_PREFIX + status, change]
        try:
            result = await self.pipeline.execute("EVALSHA", self._save_sha, len(keys), *keys, *args)
        except NoScriptError:  # a Redis that restarted or flushed its scripts
            await self.redis.script_load(SAVE_MESH)
            result = await self.pipeline.execute("EVALSHA", self._save_sha, len(keys), *keys, *args)
        if len(result) == 1:  # {stored fields}: another writer won
            stored = dict(zip(result[0][::2], result[0][1::2], strict=True))
            return Saved(False, current=mesh_from_fields(stored) if stored else None)
        if new.dispatched and new.status is Status.PENDING and old.status is not Status.PENDING:  # a retry
            await self.redis.zadd(self.key("meshes:unstarted"), {str(new.id): new.updated_at})
        if not result:
            return Saved(True)
        batch = batch_from_fields(dict(zip(result[::2], result[1::2], strict=True)))
        await self.redis.publish(self.key(batch_stream(batch.id)), batch_message(batch))
        return Saved(True, batch)

    @_unavailable_on_error
    async def stalled(self, before: float, limit: int) -> list[int]:
        ids = await self.redis.zrangebyscore(self.key("meshes:processing"), "-inf", f"({before}", 0, limit)
        return [int(i) for i in ids]

    @_unavailable_on_error
    async def unstarted(self, before: float, limit: int) -> list[int]:
        ids = await self.redis.eval(UNSTARTED, 1, self.key("meshes:unstarted"), self.prefix, repr(before), limit)
        return [int(i) for i in ids]

    @_unavailable_on_error
    async def publish(self, stream: str, message: bytes) -> None:
        await self.redis.publish(self.key(stream), message)

    async def subscribe(self, stream: str, subscriber: Subscriber) -> None:
        await self.subscriptions.subscribe(stream, subscriber)

    async def unsubscribe(self, stream: str, subscriber: Subscriber) -> None:
        await self.subscriptions.unsubscribe(stream, subscriber)

    def on_reconnect(self, callback: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.subscriptions.reconnect_callbacks.append(callback)


def _active_change(old: Status, new: Status) -> str:
    """How a write changes the owner's active set: "-" when the job ends, "+" when a retry restarts it."""
    if new.terminal and not old.terminal:
        return "-"
    return "+" if old.terminal and not new.terminal else ""
