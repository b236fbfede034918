"""Quotas per user: most active jobs and most jobs created a minute, on both backends, in-process and over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import jsonschema
import pytest

from meshprogress_nb.models import Status
from meshprogress_nb.server.backends.admission import RESERVATION_GRACE
from meshprogress_nb.server.backends.redis import RedisBackend
from meshprogress_nb.server.identity import Identity
from meshprogress_nb.server.openapi import openapi_document
from meshprogress_nb.server.quotas import ACTIVE_RETRY_AFTER, Quota, QuotaExceeded
from meshprogress_nb.state import Report
from support.clients import Api
from support.core import Core
from support.inprocess import InProcessHub
from support.server import HubServer, on_backend

ALICE, BOB = Identity("alice"), Identity("bob")
API = "meshprogress/api/v1/"


def limits(core: Core, active: int = 0, per_minute: int = 0) -> None:
    core.hub.config.max_active_jobs_per_user = active
    core.hub.config.max_jobs_per_minute_per_user = per_minute


async def create(core: Core, who: Identity = ALICE, count: int = 1) -> list[int]:
    if count == 1:
        return [(await core.hub.create_mesh(who, "a.png", "", {}, dispatch=False)).id]
    _, meshes = await core.hub.create_batch(who, ["a.png"] * count, "", {}, dispatch=False)
    return [m.id for m in meshes]


async def refused(core: Core, who: Identity = ALICE, count: int = 1) -> QuotaExceeded:
    with pytest.raises(QuotaExceeded) as refusal:
        await create(core, who, count)
    return refusal.value


async def test_most_active_jobs_counts_pending_and_processing_until_they_end(core: Core) -> None:
    limits(core, active=4)
    hub = core.hub
    first, second = await create(core, count=2)
    (third,), (fourth,) = await create(core), await create(core)
    mesh = await hub.mesh_for(ALICE, first)
    assert await hub.report(hub.tokens.issue(mesh.id, mesh.job_id), mesh.job_id, Report(progress=5, seq=1))
    refusal = await refused(core)  # processing counts as active
    assert (refusal.limit, refusal.value, refusal.retry_after) == ("max_active_jobs_per_user", 4, ACTIVE_RETRY_AFTER)
    assert "max_active_jobs_per_user (4)" in str(refusal) and "4 active" in str(refusal)
    assert len(await create(core, BOB, count=4)) == 4, "bob's quota is his own"

    await hub.report(hub.tokens.issue(mesh.id, mesh.job_id), mesh.job_id, Report(status=Status.COMPLETED, seq=2))
    await hub.cancel(ALICE, second)
    assert len(await create(core, count=2)) == 2, "ended jobs leave the count"
    await refused(core)
    await hub.cancel(ALICE, third)
    await hub.retry(ALICE, third)  # a retry is active again: counted, though not refused
    assert (await refused(core)).limit == "max_active_jobs_per_user"
    await hub.cancel(ALICE, fourth)
    await create(core)


async def test_most_jobs_a_minute_counts_a_batch_of_n_as_n_and_the_window_slides(core: Core) -> None:
    limits(core, per_minute=5)
    await create(core, count=3)
    await core.clock.advance(20)
    await create(core), await create(core)
    refusal = await refused(core)
    assert (refusal.limit, refusal.value) == ("max_jobs_per_minute_per_user", 5)
    assert refusal.retry_after == 40, "when the batch of 3 leaves the minute"
    assert "max_jobs_per_minute_per_user (5)" in str(refusal) and "5 jobs in the last minute" in str(refusal)
    assert len(await create(core, BOB, count=5)) == 5, "bob's window is his own"

    await core.clock.advance(39)
    assert (await refused(core)).retry_after == 1
    await core.clock.advance(1)
    assert len(await create(core, count=3)) == 3
    assert (await refused(core)).retry_after == 20, "then the two singles created at +20 s"


async def test_concurrent_creations_cannot_both_pass_the_check(core: Core) -> None:
    limits(core, active=1500)
    results = await asyncio.gather(create(core, count=1000), create(core, count=1000), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["QuotaExceeded", "list"]
    assert len(await create(core, count=500)) == 500


async def test_a_creation_that_died_before_writing_frees_its_reservation(core: Core) -> None:
    backend = core.hub.backend
    if not isinstance(backend, RedisBackend):
        pytest.skip("the embedded store counts written rows: there is no reservation to leak")
    limits(core, active=3)
    await create(core, count=2)
    await backend.mesh_ids("alice", 1, core.clock.time(), Quota(max_active=3))  # an id issued, its mesh never written
    await refused(core)
    await core.clock.advance(RESERVATION_GRACE + 1)
    await create(core)  # the dead creation's place is free again
    assert (await refused(core)).limit == "max_active_jobs_per_user", "the written ones still count"


def assert_documented(body: dict, path: str) -> None:
    document = openapi_document()
    schema = document["paths"][path]["post"]["responses"]["429"]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": document["components"]})


@pytest.fixture(scope="module", params=["embedded", "redis"])
def limited(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    limits = "c.MeshProgress.max_active_jobs_per_user = 3\nc.MeshProgress.max_jobs_per_minute_per_user = 5"
    server = on_backend(request, tmp_path_factory, "quota", InProcessHub, limits).start()
    yield server
    server.stop()


@pytest.fixture
async def clients(limited: HubServer) -> AsyncIterator[tuple[Api, Api]]:
    alice, bob = Api(limited.url, "alice-token"), Api(limited.url, "bob-token")
    yield alice, bob
    await alice.close(), await bob.close()


async def test_over_a_quota_the_api_answers_429_with_retry_after_naming_the_limit(clients: tuple[Api, Api]) -> None:
    alice, bob = clients
    mine = [(await alice.create_mesh())["id"] for _ in range(3)]
    over = await alice.http.post(f"{API}meshes", json={"source": "a.png", "dispatch": False})
    assert over.status_code == 429 and over.headers["Retry-After"] == str(ACTIVE_RETRY_AFTER)
    assert over.json() == {"error": over.json()["error"], "limit": "max_active_jobs_per_user", "value": 3}
    assert "max_active_jobs_per_user (3)" in over.json()["error"]
    assert_documented(over.json(), "/meshes")
    assert (await bob.create_mesh())["user"] == "bob"

    for mesh_id in mine[:2]:  # ended jobs free their places; the minute's count goes on to 5
        assert (await alice.http.post(f"{API}meshes/{mesh_id}/cancel")).status_code == 200
        await alice.create_mesh()
    assert (await alice.http.post(f"{API}meshes/{mine[2]}/cancel")).status_code == 200
    over = await alice.http.post(f"{API}batches", json={"sources": ["a.png"], "dispatch": False})
    assert over.status_code == 429 and over.json()["limit"] == "max_jobs_per_minute_per_user"
    assert 1 <= int(over.headers["Retry-After"]) <= 60 and "max_jobs_per_minute_per_user (5)" in over.json()["error"]
    assert_documented(over.json(), "/batches")
    assert (await bob.create_batch(["b.png", "c.png"]))["total"] == 2


async def test_a_batch_larger_than_a_quota_is_refused_as_invalid(clients: tuple[Api, Api]) -> None:
    alice, _ = clients
    too_big = await alice.http.post(f"{API}batches", json={"sources": ["a.png"] * 4, "dispatch": False})
    assert too_big.status_code == 422 and too_big.json()["field"] == "sources"
    assert "max_active_jobs_per_user" in too_big.json()["error"] and "Retry-After" not in too_big.headers
