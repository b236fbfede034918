"""One user multiplying fan-out (many connections x many subscriptions x big identifiers, never read) stays bounded."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from support.attack import Bystander, MiB, identifier, latency, rss, settle_rss
from support.clients import Api

pytestmark = pytest.mark.slow  # an attack on a server process of its own, measured


CONNECTIONS = 40  # the default cap is 32 a user
MESHES = 12  # 31 connections x 12 streams is over the 300 subscriptions a user this test allows
BIG_MESSAGE = "x" * 1900


@pytest.mark.slow
async def test_many_connections_subscriptions_and_big_identifiers_are_bounded(hub_factory) -> None:  # noqa: ANN001
    server = hub_factory(max_subscriptions_per_user=300)
    alice = Api(server.url, "alice-token")
    connections: list[WebSocketClientConnection] = []
    try:
        batch = await alice.create_batch([f"m{i}.png" for i in range(MESHES)])
        meshes = batch["meshes"]
        idle = rss(server)
        with Bystander(server) as bystander:
            started = time.monotonic()
            refused = 0
            for _ in range(CONNECTIONS):
                connection = await websocket_connect(
                    server.ws_url + "?token=alice-token", subprotocols=["actioncable-v1-json"]
                )
                first = json.loads(await connection.read_message())
                if first.get("reason") == "too_many_connections":
                    refused += 1
                    connection.close()
                    continue
                connections.append(connection)
            assert refused == CONNECTIONS - 32 and len(connections) == 32
            # A 60 KB identifier: that connection is closed rather than echoed 60 KB per refusal.
            await connections.pop().write_message(
                json.dumps({"command": "subscribe", "identifier": identifier(meshes[0]["id"], 60_000)})
            )
            for connection in connections:  # from now on nobody reads
                for spelling in range(5):  # the same stream under other spellings
                    await connection.write_message(
                        json.dumps({"command": "subscribe", "identifier": identifier(meshes[0]["id"], 900 + spelling)})
                    )
                for mesh in meshes:
                    await connection.write_message(
                        json.dumps({"command": "subscribe", "identifier": identifier(mesh["id"], 1024)})
                    )
            deadline = time.monotonic() + 60
            while "alice hit the subscription limit of a user" not in server.log() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            subscribed = time.monotonic()
            for round_ in range(1, 3):  # every mesh's watchers get 2 KB frames they never read
                for mesh in meshes:
                    await alice.callback(
                        mesh["callback"], mesh["job_id"], progress=round_ * 10, message=f"{round_} {BIG_MESSAGE}"
                    )
            reported = time.monotonic()
        for connection in connections:
            connection.close()
        figures = bystander.verify()
        log = server.log()
        assert "refused a connection of alice: too many connections" in log
        assert "alice hit the subscription limit of a user" in log
        assert "closed a connection of alice: identifier over 1024 bytes" in log
        assert bystander.peak_rss - idle < 64 * MiB, (bystander.peak_rss - idle) / MiB
        after = settle_rss(server, idle + 16 * MiB)
        assert after - idle < 16 * MiB, (after - idle) / MiB
        print(
            f"\nfan-out: {CONNECTIONS} connections ({refused} refused) x {MESHES + 5} subscribes of 1 KiB identifiers "
            f"(+1 of 60 KB) in {subscribed - started:.1f} s, {2 * MESHES} reports in {reported - subscribed:.1f} s; "
            f"RSS idle {idle / MiB:.0f} MiB, peak +{(bystander.peak_rss - idle) / MiB:.1f} MiB, "
            f"after +{(after - idle) / MiB:.1f} MiB; " + latency(figures)
        )
    finally:
        for connection in connections:
            connection.close()
        await alice.close()
