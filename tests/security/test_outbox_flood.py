"""A cable client that stops reading and floods ``request_update`` gets one bounded outbox, then is closed."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from tornado.websocket import websocket_connect

from support.attack import Bystander, MiB, latency, rss, settle_rss
from support.clients import Api

pytestmark = pytest.mark.slow  # an attack on a server process of its own, measured


EMOJI_MESSAGE = "\N{TRIANGULAR RULER}" * 2000  # 8 KB of UTF-8 in every frame of the mesh
REQUESTS = 20_000


async def test_request_update_flood_is_bounded_and_the_reader_is_closed(hub_factory) -> None:  # noqa: ANN001
    # Commands unpaced, so that the outbox is what trips (pacing is the fan-out test's).
    server = hub_factory(outbox_timeout=2.0, cable_commands_per_second=1e9)
    alice = Api(server.url, "alice-token")
    try:
        mesh = await alice.create_mesh()
        report = await alice.callback(mesh["callback"], mesh["job_id"], progress=5, message=EMOJI_MESSAGE)
        assert report.status_code == 202
        idle = rss(server)
        with Bystander(server) as bystander:
            connection = await websocket_connect(
                server.ws_url + "?token=alice-token", subprotocols=["actioncable-v1-json"]
            )
            identifier = json.dumps({"channel": "MeshProgressChannel", "mesh_id": mesh["id"]})
            await connection.write_message(json.dumps({"command": "subscribe", "identifier": identifier}))
            update = json.dumps(
                {"command": "message", "identifier": identifier, "data": json.dumps({"action": "request_update"})}
            )
            started = time.monotonic()
            sent = 0
            try:
                # Never read: each reply is an 8 KB frame, 160 MB in all, that the server must not hold.
                for sent in range(1, REQUESTS + 1):  # noqa: B007
                    await connection.write_message(update)
            except Exception:  # noqa: BLE001 - the server closed the flooding connection: the limit tripped
                pass
            # The server closes the connection once its outbox has waited outbox_timeout.
            deadline = time.monotonic() + 30
            while "closed a connection of alice" not in server.log() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            flood_seconds = time.monotonic() - started
            await asyncio.sleep(0.5)
        connection.close()
        figures = bystander.verify()
        assert "closed a connection of alice: the client did not read its frames in time" in server.log()
        assert bystander.peak_rss - idle < 64 * MiB, (bystander.peak_rss - idle) / MiB
        after = settle_rss(server, idle + 16 * MiB)
        assert after - idle < 16 * MiB, (after - idle) / MiB
        print(
            f"\noutbox flood: {sent} request_update in {flood_seconds:.1f} s; RSS idle {idle / MiB:.0f} MiB, "
            f"peak +{(bystander.peak_rss - idle) / MiB:.1f} MiB, after +{(after - idle) / MiB:.1f} MiB; "
            + latency(figures)
        )
    finally:
        await alice.close()
