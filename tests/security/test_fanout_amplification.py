"""One user multiplying fan-out (many connections x many subscriptions x big identifiers, never read) stays bounded."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from support.attack import Bystander, MiB, identifier, rss, settle_rss
from support.clients import Api

CONNECTIONS = 40  # the default cap is 32 a user
MESHES = 70  # 32 connections x 70 streams is over the default 2,000 subscriptions a user
BIG_MESSAGE = "x" * 1900


@pytest.mark.slow
async def test_many_connections_subscriptions_and_big_identifiers_are_bounded(hub_factory) -> None:  # noqa: ANN001
    server = hub_factory(outbox_timeout=2.0)
    alice = Api(server.url, "alice-token")
    connections: list[WebSocketClientConnection] = []
    try:
        batch = await alice.create_batch([f"m{i}.png" for i in range(MESHES)])
        meshes = batch["meshes"]
        idle = rss(server)
        with Bystander(server) as bystander:
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
            for connection in connections:  # from now on nobody reads
                await connection.write_message(
                    json.dumps({"command": "subscribe", "identifier": identifier(meshes[0]["id"], 60_000)})
                )
                for spelling in range(20):  # the same stream under other spellings
                    await connection.write_message(
                        json.dumps({"command": "subscribe", "identifier": identifier(meshes[0]["id"], 900 + spelling)})
                    )
                for mesh in meshes:
                    await connection.write_message(
                        json.dumps({"command": "subscribe", "identifier": identifier(mesh["id"], 1024)})
                    )
            for round_ in range(1, 5):
                await asyncio.gather(
                    *(
                        alice.callback(
                            m["callback"], m["job_id"], progress=round_ * 10, message=f"{round_} {BIG_MESSAGE}"
                        )
                        for m in meshes
                    )
                )
                await asyncio.sleep(0.3)
            deadline = time.monotonic() + 30
            while server.log().count("the client did not read its frames") < 32 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
        for connection in connections:
            connection.close()
        figures = bystander.verify()
        log = server.log()
        assert "refused a connection of alice: too many connections" in log
        assert "alice hit the subscription limit of a user" in log
        assert log.count("closed a connection of alice") == 32
        assert bystander.peak_rss - idle < 64 * MiB, (bystander.peak_rss - idle) / MiB
        after = settle_rss(server, idle + 16 * MiB)
        assert after - idle < 16 * MiB, (after - idle) / MiB
        print(
            f"\nfan-out: {CONNECTIONS} connections ({refused} refused) x {MESHES + 21} subscribes, 1 KiB and 60 KB "
            f"identifiers; RSS idle {idle / MiB:.0f} MiB, peak +{(bystander.peak_rss - idle) / MiB:.1f} MiB, "
            f"after +{(after - idle) / MiB:.1f} MiB; status p99 {figures['status_p99_ms']:.0f} ms, bob's callback "
            f"p99 {figures['callback_p99_ms']:.0f} ms ({figures['samples']} samples)"
        )
    finally:
        for connection in connections:
            connection.close()
        await alice.close()
