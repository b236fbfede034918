"""Redis mode: several servers on one Redis behave as one hub."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.clients import Api, Cable
from support.server import HubServer


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
        assert (await api_b.callback(b_callback, mesh["job_id"], status="completed")).status_code == 202
        assert (await cable.next())["message"]["status"] == "completed"
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
