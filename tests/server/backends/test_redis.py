"""Redis mode: several servers on one Redis behave as one hub."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from support.clients import Api, Cable
from support.server import HubServer

pytestmark = pytest.mark.slow  # two servers on one Redis, SIGKILL and restart


@pytest.fixture
def two_servers(tmp_path: Path, redis_url: str) -> Iterator[tuple[HubServer, HubServer]]:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    a = HubServer(tmp_path / "a", redis_url=redis_url, redis_prefix=prefix).start()
    b = HubServer(tmp_path / "b", redis_url=redis_url, redis_prefix=prefix).start()
    yield a, b
    a.stop()
    b.stop()


async def test_a_callback_to_one_server_reaches_a_subscriber_on_the_other(two_servers) -> None:  # noqa: ANN001
    a, b = two_servers
    api_a, api_b = Api(a.url, "alice-token"), Api(b.url, "alice-token")
    cable = await Cable.connect(b.ws_url, "alice-token")
    try:
        mesh = await api_a.create_mesh()
        assert (await api_b.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).status_code == 200
        assert (await cable.next())["type"] == "welcome"
        await cable.subscribe("MeshProgressChannel", mesh_id=mesh["id"])
        assert (await cable.next())["type"] == "confirm_subscription"
        assert (await cable.next())["message"]["status"] == "pending"
        await api_a.callback(mesh["callback"], mesh["job_id"], progress=33, message="from A")
        update = (await cable.next())["message"]
        assert (update["progress"], update["message"]) == (33, "from A")
        # The token issued by A is accepted by B: servers on one Redis share the secret.
        b_callback = {"url": b.url + "meshprogress/api/v1/mesh_callbacks/progress", "token": mesh["callback"]["token"]}
        quality = {"kind": "surface", "cells": 1772, "watertight": True, "volume": 4188.5}
        done = await api_b.callback(b_callback, mesh["job_id"], status="completed", quality=quality)
        assert done.status_code == 202
        assert (await cable.next())["message"]["status"] == "completed"
        # The quality report is stored in Redis: the other server returns it.
        assert (await api_a.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()["quality"] == quality
        cancel = await api_b.http.post(f"meshprogress/api/v1/meshes/{mesh['id']}/cancel")
        assert cancel.status_code == 409
    finally:
        cable.close()
        await api_a.close()
        await api_b.close()


async def test_killing_one_server_moves_nothing(two_servers) -> None:  # noqa: ANN001
    a, b = two_servers
    api_b = Api(b.url, "alice-token")
    cable = await Cable.connect(b.ws_url, "alice-token")
    try:
        batch = await api_b.create_batch(["x.png", "y.png"])
        await cable.next()
        await cable.subscribe("BatchProgressChannel", batch_id=batch["id"])
        await cable.next(), await cable.next()
        a.kill()
        for mesh in batch["meshes"]:
            assert (await api_b.callback(mesh["callback"], mesh["job_id"], status="completed")).status_code == 202
        frames = await cable.messages_until(lambda m: m["status"] == "completed")
        assert frames[-1]["completed"] == 2
    finally:
        cable.close()
        await api_b.close()


async def test_a_server_with_a_stale_view_still_writes_and_refuses_on_the_stores_word(two_servers) -> None:  # noqa: ANN001
    """A remembers the mesh from its own writes; B then cancels and retries it behind A's back."""
    a, b = two_servers
    api_a, api_b = Api(a.url, "alice-token"), Api(b.url, "alice-token")
    try:
        mesh = await api_a.create_mesh()
        assert (await api_a.callback(mesh["callback"], mesh["job_id"], progress=10, seq=1)).status_code == 202
        assert (await api_b.http.post(f"meshprogress/api/v1/meshes/{mesh['id']}/cancel")).status_code == 200
        await asyncio.sleep(0.2)  # past the job's write slot: A must write, not merge
        late = await api_a.callback(mesh["callback"], mesh["job_id"], progress=20, seq=2)
        assert late.status_code == 409 and late.json()["status"] == "cancelled"
        retried = (await api_b.http.post(f"meshprogress/api/v1/meshes/{mesh['id']}/retry")).json()
        assert (await api_a.callback(mesh["callback"], mesh["job_id"], progress=30, seq=3)).status_code == 401
        fresh = await api_a.callback(retried["callback"], retried["job_id"], progress=40, seq=1)
        assert fresh.status_code == 202 and fresh.json()["applied"] is True
        stored = (await api_b.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()
        assert (stored["status"], stored["progress"], stored["attempt"]) == ("processing", 40, 2)
    finally:
        await api_a.close()
        await api_b.close()


async def test_writes_survive_a_redis_that_forgot_its_scripts(two_servers, redis_url: str) -> None:  # noqa: ANN001
    a, _ = two_servers
    api = Api(a.url, "alice-token")
    try:
        mesh = await api.create_mesh()
        assert (await api.callback(mesh["callback"], mesh["job_id"], progress=10)).status_code == 202
        redis.Redis.from_url(redis_url).script_flush()
        await asyncio.sleep(0.2)
        assert (await api.callback(mesh["callback"], mesh["job_id"], progress=20)).status_code == 202
        assert (await api.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()["progress"] == 20
    finally:
        await api.close()
