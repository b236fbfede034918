"""The store loses its data (FLUSHALL, or a Redis without persistence restarted) while alice watches her job: ids
never come back, so nothing of bob's new jobs reaches her subscription, and her old id answers 404."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from support.clients import Api, Cable
from support.inprocess import InProcessHub
from support.redis_server import RedisProcess
from support.waiting import wait_until

API = "meshprogress/api/v1/"
MESH = "MeshProgressChannel"


async def created_once_the_store_answers(api: Api, name: str) -> dict:
    """Bob's job, created as soon as the server has its store back (503 until it reconnects)."""

    async def attempt() -> int:
        response = await api.http.post(f"{API}meshes", json={"source": f"{name}.png", "name": name, "dispatch": False})
        attempt.answer = response.json() if response.status_code == 201 else {}  # type: ignore[attr-defined]
        return response.status_code

    await wait_until(attempt, lambda status: status == 201, timeout=60, every=0.2)
    return attempt.answer  # type: ignore[attr-defined]


@pytest.mark.parametrize("loss", ["flushall", "restart"])
async def test_after_the_store_lost_its_data_old_ids_reach_nobody_elses_job(tmp_path: Path, loss: str) -> None:
    store = RedisProcess(tmp_path / "redis", persistent=False).start()
    server = InProcessHub(tmp_path / "hub", redis_url=store.url).start()
    alice, bob = Api(server.url, "alice-token"), Api(server.url, "bob-token")
    cable = await Cable.connect(server.ws_url, "alice-token")
    try:
        assert (await cable.next())["type"] == "welcome"
        hers = await alice.create_mesh("scans/alice-private.png", name="alice-private")
        await cable.subscribe(MESH, mesh_id=hers["id"])
        assert (await cable.next())["type"] == "confirm_subscription"
        assert (await cable.next())["message"]["mesh_id"] == hers["id"]

        if loss == "flushall":
            client = aioredis.Redis.from_url(store.url)
            await client.flushall()
            await client.aclose()
        else:
            store.kill()
            store.start()
        client = aioredis.Redis.from_url(store.url)

        async def her_stream_subscribed() -> int:
            return int((await client.pubsub_numsub(f"mesh_progress:{hers['id']}"))[0][1])

        # The server listens on her old stream again: had bob's job her id, his reports would reach her.
        await wait_until(her_stream_subscribed, lambda count: count == 1, timeout=60, every=0.1)
        await client.aclose()

        bobs = [await created_once_the_store_answers(bob, f"bob-{i}") for i in range(5)]
        batch = await bob.create_batch([f"bob-batch-{i}.png" for i in range(5)])
        jobs = bobs + batch["meshes"]
        assert hers["id"] not in {job["id"] for job in jobs}
        for job in jobs:
            assert (await bob.callback(job["callback"], job["job_id"], progress=50, message="bob at 50")).is_success
            assert (await bob.callback(job["callback"], job["job_id"], status="completed")).is_success

        # A job of alice's own after the loss, watched on the same connection and finished after all of bob's
        # reports: its final frame comes after any frame of bob's could have.
        fresh = await alice.create_mesh("scans/alice-new.png", name="alice-new")
        assert fresh["id"] > hers["id"]
        await cable.subscribe(MESH, mesh_id=fresh["id"])
        confirmed = await cable.messages_until(lambda m: m.get("mesh_id") == fresh["id"])
        assert (await alice.callback(fresh["callback"], fresh["job_id"], status="completed")).is_success
        received = confirmed + await cable.messages_until(
            lambda m: m.get("mesh_id") == fresh["id"] and m["status"] == "completed"
        )
        assert {m["mesh_id"] for m in received} <= {hers["id"], fresh["id"]}
        assert not [m for m in received if "bob" in str(m)], received

        old = await alice.http.get(f"{API}meshes/{hers['id']}")
        assert old.status_code == 404 and old.json()["error"].startswith("Mesh")
        listed = (await alice.http.get(f"{API}meshes")).json()["meshes"]
        assert [m["id"] for m in listed] == [fresh["id"]]
    finally:
        cable.close()
        await asyncio.gather(alice.close(), bob.close())
        server.stop()
        store.kill()
