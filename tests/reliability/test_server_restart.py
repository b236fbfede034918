"""A hub server is SIGKILLed mid-batch and restarted: no job state is lost, and the official client reconnects by
itself and shows the current state."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from support.clients import Api
from support.node import start_consumer
from support.server import HubServer


@pytest.mark.parametrize("mode", ["embedded", "redis"])
async def test_sigkill_and_restart_mid_batch(tmp_path: Path, mode: str, redis_url: str, node_client: Path) -> None:
    server = HubServer(
        tmp_path, redis_url=redis_url if mode == "redis" else "", redis_prefix=f"test-{uuid.uuid4().hex[:8]}:"
    ).start()
    api = Api(server.url, "alice-token")
    consumer = await start_consumer(node_client, server.ws_url + "?token=alice-token")
    try:
        batch = await api.create_batch(["a.png", "b.png", "c.png"])
        first, second, _ = batch["meshes"]
        await api.callback(first["callback"], first["job_id"], progress=40, message="meshing", seq=1)
        await api.callback(second["callback"], second["job_id"], status="completed", seq=1)
        await consumer.command(f"subscribe MeshProgressChannel {first['id']}")
        await consumer.until(lambda e: e["event"] == "received" and e["data"]["progress"] == 40)

        server.kill()
        await consumer.until(lambda e: e["event"] == "disconnected", timeout=20)
        server.start()

        # The client's own connection monitor reconnects; on re-subscribe it gets the current state at once.
        await consumer.until(lambda e: e["event"] == "connected", timeout=30)
        await api.callback(first["callback"], first["job_id"], progress=80, message="after restart", seq=2)
        update = await consumer.until(lambda e: e["event"] == "received" and e["data"]["progress"] == 80, timeout=20)
        assert update["data"]["message"] == "after restart"
        restored = (await api.http.get(f"meshprogress/api/v1/batches/{batch['id']}")).json()
        assert (restored["completed"], restored["processing"], restored["pending"]) == (1, 1, 1)
        assert (await api.callback(first["callback"], first["job_id"], progress=99, seq=2)).json()["applied"] is False
    finally:
        await consumer.command("exit")
        await consumer.process.wait()
        await api.close()
        server.stop()
