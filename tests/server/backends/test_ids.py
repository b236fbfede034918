"""Ids never come back: after the store loses its data, new ids exceed every id issued before (both backends)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from meshprogress_nb.server.backends import MeshSpec, ids
from meshprogress_nb.server.backends.embedded import EmbeddedBackend
from meshprogress_nb.server.backends.redis import RedisBackend
from meshprogress_nb.server.identity import Identity
from meshprogress_nb.server.quotas import NO_QUOTA, Quota
from support.core import Core

ALICE = Identity("alice")
BOB = Identity("bob")
MINUTE_NS = 60 * 10**9


async def lose_store(core: Core) -> None:
    """What a Redis without persistence restarted, a FLUSHDB, or a deleted SQLite file do to the store."""
    backend = core.hub.backend
    if isinstance(backend, RedisBackend):
        keys = [key async for key in backend.redis.scan_iter(match=backend.prefix + "*")]
        await backend.redis.delete(*keys)
        return
    assert isinstance(backend, EmbeddedBackend)
    await backend.close()
    for suffix in ("", "-wal", "-shm"):
        Path(backend.path + suffix).unlink(missing_ok=True)
    await backend.start()


@pytest.mark.parametrize("quota", [NO_QUOTA, Quota(100, 100)], ids=["no-quota", "quota"])
async def test_ids_issued_after_the_store_lost_its_data_exceed_every_earlier_one(core: Core, quota: Quota) -> None:
    hub, backend = core.hub, core.hub.backend
    now = core.clock.time()
    single = await backend.create_mesh(MeshSpec("alice", "a.png", "j1"), now, quota)
    batch, members = await backend.create_batch("alice", "b", [MeshSpec("alice", "b.png", "j2")] * 3, now, quota)
    old_meshes, old_batches = {single.id, *(m.id for m in members)}, {batch.id}

    await lose_store(core)
    for mesh_id in old_meshes:
        assert await backend.get_mesh(mesh_id) is None
    new_single = await backend.create_mesh(MeshSpec("bob", "c.png", "j3"), now, quota)
    new_batch, new_members = await backend.create_batch("bob", "d", [MeshSpec("bob", "d.png", "j4")] * 3, now, quota)
    via_hub = await hub.create_mesh(BOB, "e.png", "", {}, dispatch=False)

    new_meshes = {new_single.id, via_hub.id, *(m.id for m in new_members)}
    assert min(new_meshes) > max(old_meshes)
    assert new_batch.id > max(old_batches)
    assert max(new_meshes) < 2**53, "JavaScript numbers hold every id exactly"
    for mesh_id in old_meshes:  # an old id names nothing, never one of bob's new jobs
        assert await backend.get_mesh(mesh_id) is None


async def test_a_new_store_starts_at_the_floor_then_counts_one_by_one(core: Core) -> None:
    backend = core.hub.backend
    a_minute_ago = ids.floor(time.time_ns() - MINUTE_NS)
    first = await backend.create_mesh(MeshSpec("alice", "a.png", "j1"), core.clock.time())
    now = ids.floor()
    second = await backend.create_mesh(MeshSpec("alice", "b.png", "j2"), core.clock.time())
    _, members = await backend.create_batch("alice", "", [MeshSpec("alice", "c.png", "j3")] * 3, core.clock.time())
    assert a_minute_ago < first.id <= now + 1, "seeded from the store's clock when the store was new"
    assert [second.id, *(m.id for m in members)] == list(range(first.id + 1, first.id + 5))


def test_the_floor_is_microseconds_since_the_epoch_of_ids() -> None:
    assert ids.floor(ids.EPOCH * 10**9) == 0
    assert ids.floor(ids.EPOCH * 10**9 - MINUTE_NS) == 0, "a clock before the epoch gives no negative id"
    assert ids.floor((ids.EPOCH + 1) * 10**9 + 2500) == 1_000_002
    assert ids.floor((ids.EPOCH + 285 * 365 * 86400) * 10**9) < 2**53
