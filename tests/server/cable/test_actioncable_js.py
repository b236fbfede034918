"""The official ``@rails/actioncable`` client (from npm, unchanged) against the hub's cable, from Node."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from support.clients import Api
from support.node import start_consumer
from support.server import HubServer

pytestmark = pytest.mark.slow  # the official client in Node


async def test_official_client_subscribes_receives_performs_and_is_rejected(
    hub: HubServer, alice: Api, bob: Api, node_client: Path
) -> None:
    mesh = await alice.create_mesh()
    bobs = await bob.create_mesh()
    batch = await alice.create_batch(["a.png"])
    consumer = await start_consumer(node_client, hub.ws_url + "?token=alice-token")
    try:
        await consumer.command(f"subscribe MeshProgressChannel {mesh['id']}")
        assert await consumer.event() == {"n": 0, "event": "connected"}
        snapshot = await consumer.event()
        assert snapshot["event"] == "received" and snapshot["data"]["status"] == "pending"

        await alice.callback(mesh["callback"], mesh["job_id"], progress=64, message="meshing")
        update = await consumer.until(lambda e: e["event"] == "received")
        assert (update["data"]["progress"], update["data"]["message"]) == (64, "meshing")

        await consumer.command("perform 0 request_update")
        again = await consumer.until(lambda e: e["event"] == "received")
        assert again["data"]["version"] == update["data"]["version"]

        await consumer.command(f"subscribe MeshProgressChannel {bobs['id']}")
        assert await consumer.until(lambda e: e.get("n") == 1) == {"n": 1, "event": "rejected"}

        await consumer.command(f"subscribe BatchProgressChannel {batch['id']}")
        assert await consumer.until(lambda e: e.get("n") == 2) == {"n": 2, "event": "connected"}
        member = batch["meshes"][0]
        await alice.callback(member["callback"], member["job_id"], status="completed")
        done = await consumer.until(
            lambda e: e.get("n") == 2 and e["event"] == "received" and e["data"]["status"] == "completed"
        )
        assert done["data"]["completed"] == 1
    finally:
        await consumer.command("exit")
        await consumer.process.wait()


async def test_official_client_without_credentials_gives_up(hub: HubServer, alice: Api, node_client: Path) -> None:
    """``disconnect`` with ``reconnect: false``: the client stops instead of hammering the server."""
    mesh = await alice.create_mesh()
    consumer = await start_consumer(node_client, hub.ws_url)
    try:
        await consumer.command(f"subscribe MeshProgressChannel {mesh['id']}")
        with pytest.raises(asyncio.TimeoutError):
            await consumer.until(lambda e: e["event"] in ("connected", "received"), timeout=3)
    finally:
        await consumer.command("exit")
        await consumer.process.wait()
