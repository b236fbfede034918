"""Where the two backends must behave alike, each checked on both (the ``core`` fixture's parameters)."""

from __future__ import annotations

import json

import pytest

from meshprogress_nb import state
from meshprogress_nb.models import Status
from meshprogress_nb.server.backends import BackendUnavailable
from meshprogress_nb.server.backends.redis import RedisBackend
from meshprogress_nb.server.backends.redis_pubsub import RedisSubscriptions
from meshprogress_nb.server.identity import Identity
from meshprogress_nb.server.streams import batch_stream, mesh_stream, parse
from meshprogress_nb.state import Report
from support.core import Core
from support.server import free_port
from support.waiting import wait_until

ALICE = Identity("alice")


async def test_a_status_filter_finds_old_jobs_exactly(core: Core) -> None:
    hub = core.hub
    oldest = await hub.create_mesh(ALICE, "old.png", "", {}, dispatch=False)
    await hub.report(hub.tokens.issue(oldest.id, oldest.job_id), oldest.job_id, Report(progress=5, seq=1))
    for i in range(40):
        await hub.create_mesh(ALICE, f"{i}.png", "", {}, dispatch=False)
    found = await hub.list_meshes(ALICE, Status.PROCESSING, limit=1)
    assert [m.id for m in found] == [oldest.id]
    assert len(await hub.list_meshes(ALICE, Status.PENDING, limit=25)) == 25


async def test_one_failing_subscriber_does_not_starve_the_others(core: Core) -> None:
    backend = core.hub.backend
    received: list[bytes] = []

    def broken(message: bytes) -> None:
        raise RuntimeError("a subscriber's bug")

    await backend.subscribe("mesh_progress:999", broken)
    await backend.subscribe("mesh_progress:999", received.append)
    await backend.publish("mesh_progress:999", b'{"version": 1}')

    async def read() -> list[bytes]:
        return received

    assert await wait_until(read, bool, timeout=10) == [b'{"version": 1}']


async def test_the_store_publishes_both_the_mesh_and_its_batch(core: Core) -> None:
    hub = core.hub
    batch, (member, _) = await hub.create_batch(ALICE, ["a.png", "b.png"], "pair", {}, dispatch=False)
    frames: dict[str, list[dict]] = {mesh_stream(member.id): [], batch_stream(batch.id): []}
    for stream, sink in frames.items():
        await hub.backend.subscribe(stream, lambda message, sink=sink: sink.append(json.loads(message)))
    await hub.report(hub.tokens.issue(member.id, member.job_id), member.job_id, Report(progress=50, seq=1))

    async def read() -> dict[str, list[dict]]:
        return frames

    await wait_until(read, lambda f: all(f.values()), timeout=10)
    assert frames[mesh_stream(member.id)][-1]["progress"] == 50
    assert frames[batch_stream(batch.id)][-1]["progress"] == 25


@pytest.mark.redis
async def test_a_failed_redis_subscribe_leaves_nothing_registered() -> None:
    subscriptions = RedisSubscriptions(f"redis://127.0.0.1:{free_port()}/0", prefix="nobody:")
    with pytest.raises(BackendUnavailable):
        await subscriptions.subscribe("mesh_progress:1", lambda message: None)
    assert subscriptions._streams == {}
    await subscriptions.close()


def test_stream_names_are_made_and_parsed_in_one_place() -> None:
    assert parse(mesh_stream(12)) == ("mesh", 12)
    assert parse(batch_stream(7)) == ("batch", 7)
    for bad in ("mesh_progress:", "mesh_progress:-1", "other:1", "batch_progress:1x"):
        with pytest.raises(ValueError):
            parse(bad)


async def test_a_write_from_a_stale_state_is_refused_and_redis_returns_the_stored_state(core: Core) -> None:
    """Several service processes write the same meshes: a loser gets the winner's state in the same round trip."""
    hub = core.hub
    stale = await hub.create_mesh(ALICE, "a.png", "", {}, dispatch=False)
    await hub.report(hub.tokens.issue(stale.id, stale.job_id), stale.job_id, Report(progress=40, seq=1))
    stored = await hub.backend.get_mesh(stale.id)
    assert stored is not None and stored.version > stale.version
    updated = state.apply_report(stale, Report(progress=10, seq=1), core.clock.time())
    assert updated is not None
    saved = await hub.backend.save_mesh(stale, updated, None, b"{}", lambda batch: b"{}")
    assert not saved.written
    assert saved.current == (stored if isinstance(hub.backend, RedisBackend) else None)
    assert await hub.backend.get_mesh(stale.id) == stored
