"""A client that stops reading never makes the server buffer without bound; it gets the latest state later."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx
import psutil
import pytest
from tornado.websocket import websocket_connect

from support.clients import CALLBACK, Api
from support.server import HubServer

pytestmark = pytest.mark.slow  # a flood of 6,000 frames at a stalled reader

MESHES = 150
BIG = "x" * 1900
OUTBOX_TIMEOUT = (
    30.0  # MeshProgress.outbox_timeout's default  # near the message limit, so frames fill the socket buffers quickly
)


async def test_a_stalled_reader_holds_at_most_one_pending_frame_per_stream(
    hub: HubServer, alice: Api, caplog: pytest.LogCaptureFixture
) -> None:
    logging.getLogger("meshprogress_nb").addHandler(caplog.handler)  # the extension's logger does not propagate
    try:
        await stall_and_flood(hub, alice, caplog)
    finally:
        logging.getLogger("meshprogress_nb").removeHandler(caplog.handler)


async def stall_and_flood(hub: HubServer, alice: Api, caplog: pytest.LogCaptureFixture) -> None:
    batch = await alice.create_batch([f"m{i}.png" for i in range(MESHES)])
    meshes = batch["meshes"]
    # Tornado's client reads frames into a queue of one: not calling read_message() stops reading the socket.
    connection = await websocket_connect(hub.ws_url + "?token=alice-token", subprotocols=["actioncable-v1-json"])
    for mesh in meshes:
        identifier = json.dumps({"channel": "MeshProgressChannel", "mesh_id": mesh["id"]})
        await connection.write_message(json.dumps({"command": "subscribe", "identifier": identifier}))
    stalled_since = time.monotonic()
    server = psutil.Process(hub.process.pid)  # type: ignore[union-attr]
    await asyncio.sleep(1)
    rss_before = server.memory_info().rss
    posts = 0
    async with httpx.AsyncClient(base_url=hub.url, timeout=30, limits=httpx.Limits(max_connections=20)) as worker:

        async def flood(mesh: dict) -> None:
            nonlocal posts
            for step in range(1, 41):
                await worker.post(
                    CALLBACK,
                    json={"job_id": mesh["job_id"], "progress": step * 2.5, "message": f"{step} {BIG}"},
                    headers={"X-Callback-Token": mesh["callback"]["token"]},
                )
                posts += 1
                await asyncio.sleep(0.05)

        await asyncio.gather(*(flood(m) for m in meshes))
    grown = server.memory_info().rss - rss_before
    # 6,000 updates of 2 KB (12 MB) were published to this one reader; what the server may hold for it is one
    # frame per stream (0.3 MB), plus allocator noise.
    assert grown < 40 * 1024 * 1024, grown
    stalled_for = time.monotonic() - stalled_since
    latest: dict[int, dict] = {}
    frames = 0
    while len(latest) < MESHES or any(m["progress"] != 100 for m in latest.values()):
        raw = await asyncio.wait_for(connection.read_message(), 30)
        if raw is None and stalled_for > OUTBOX_TIMEOUT:
            # A loaded machine made the flood outlast outbox_timeout: the server closed the reader, saying why in
            # a 1008 close frame; that frame waits behind the unread ones, so when the socket's buffers were still
            # full the server cut the connection after tornado's close timeout and only its log says why.
            assert connection.close_code in (1008, None), connection.close_code
            assert "the client did not read its frames in time" in caplog.text  # the hub runs in this process
            return
        assert raw is not None
        frame = json.loads(raw)
        if isinstance(frame.get("message"), dict):
            frames += 1
            latest[frame["message"]["mesh_id"]] = frame["message"]
    assert all(m["message"].startswith("40 ") for m in latest.values())
    assert frames < posts, (frames, posts)
    connection.close()
