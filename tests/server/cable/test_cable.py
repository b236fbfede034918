"""The ActionCable endpoint, with a Python client, against a real jupyter-server on both backends."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from tornado.httpclient import HTTPClientError

from support.clients import CALLBACK, Api, Cable
from support.server import HubServer

MESH = "MeshProgressChannel"
BATCH = "BatchProgressChannel"


async def connect(hub: HubServer, token: str | None = "alice-token") -> Cable:
    cable = await Cable.connect(hub.ws_url, token)
    assert await cable.next() == {"type": "welcome"}
    return cable


async def test_welcome_then_pings(hub: HubServer) -> None:
    cable = await connect(hub)
    try:
        ping = await cable.next(timeout=5, skip_pings=False)
        assert ping["type"] == "ping" and abs(ping["message"] - time.time()) < 5
        assert cable.connection.selected_subprotocol == "actioncable-v1-json"
    finally:
        cable.close()


async def test_unauthenticated_client_is_told_not_to_reconnect(hub: HubServer) -> None:
    cable = await Cable.connect(hub.ws_url, None)
    try:
        assert await cable.next() == {"type": "disconnect", "reason": "unauthorized", "reconnect": False}
        assert (await cable.next())["type"] == "_closed"
    finally:
        cable.close()


async def test_cross_origin_pages_cannot_open_the_cable(hub: HubServer) -> None:
    """A page's cookie session is refused from another origin (token-authenticated scripts have no origin)."""
    with pytest.raises(HTTPClientError) as caught:
        await Cable.connect(hub.ws_url, None, origin="https://evil.example", cookie_user="alice")
    assert caught.value.code == 403
    same_origin = await Cable.connect(hub.ws_url, None, origin=f"http://127.0.0.1:{hub.port}", cookie_user="alice")
    try:
        assert await same_origin.next() == {"type": "welcome"}
    finally:
        same_origin.close()


async def test_subscribe_transmits_current_state_then_updates(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    await alice.callback(mesh["callback"], mesh["job_id"], progress=20, message="loading")
    cable = await connect(hub)
    try:
        identifier = await cable.subscribe(MESH, mesh_id=mesh["id"])
        assert await cable.next() == {"identifier": identifier, "type": "confirm_subscription"}
        first = (await cable.next())["message"]
        assert {k: first[k] for k in ("mesh_id", "status", "progress", "message")} == {
            "mesh_id": mesh["id"],
            "status": "processing",
            "progress": 20,
            "message": "loading",
        }
        assert set(first) >= {"updated_at", "estimated_remaining", "version"}
        await alice.callback(mesh["callback"], mesh["job_id"], progress=60, message="meshing")
        update = await cable.next()
        assert update["identifier"] == identifier and update["message"]["progress"] == 60
        await cable.perform(identifier, "request_update")
        again = await cable.next()
        assert again["message"]["version"] == update["message"]["version"]
        await alice.callback(mesh["callback"], mesh["job_id"], status="completed", result_url="/r.ply")
        done = await cable.next()
        assert (done["message"]["status"], done["message"]["result_url"]) == ("completed", "/r.ply")
    finally:
        cable.close()


async def test_other_users_and_unknown_meshes_are_rejected_alike(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    cable = await connect(hub, "bob-token")
    try:
        theirs = await cable.subscribe(MESH, mesh_id=mesh["id"])
        assert await cable.next() == {"identifier": theirs, "type": "reject_subscription"}
        missing = await cable.subscribe(MESH, mesh_id=987654321)
        assert await cable.next() == {"identifier": missing, "type": "reject_subscription"}
        batch = await cable.subscribe(BATCH, batch_id=987654321)
        assert await cable.next() == {"identifier": batch, "type": "reject_subscription"}
    finally:
        cable.close()


async def test_bad_frames_are_ignored_and_the_connection_keeps_working(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    cable = await connect(hub)
    try:
        for raw in ["not json", "[]", '{"command": "explode", "identifier": "{}"}', '{"command": "subscribe"}']:
            await cable.connection.write_message(raw)
        for identifier in [
            "not json",
            '{"channel": "NoSuchChannel"}',
            json.dumps({"channel": MESH, "mesh_id": "x"}),
            json.dumps({"channel": MESH, "mesh_id": [1]}),
        ]:
            await cable.send({"command": "subscribe", "identifier": identifier})
            assert await cable.next() == {"identifier": identifier, "type": "reject_subscription"}
        await cable.send({"command": "message", "identifier": "{}", "data": "{}"})
        identifier = await cable.subscribe(MESH, mesh_id=mesh["id"])
        assert (await cable.next())["type"] == "confirm_subscription"
        await cable.send({"command": "message", "identifier": identifier, "data": "not json"})
        await cable.perform(identifier, "no_such_action")
        await cable.perform(identifier, "request_update")
        assert (await cable.next())["message"]["mesh_id"] == mesh["id"]
    finally:
        cable.close()


async def test_huge_frames_close_the_connection_not_the_server(hub: HubServer, alice: Api) -> None:
    cable = await connect(hub)
    await cable.connection.write_message("x" * (1024 * 1024))
    frame = await cable.next()
    assert frame["type"] == "_closed"
    cable.close()
    assert (await alice.http.get("meshprogress/api/v1/meshes")).status_code == 200


async def test_unsubscribe_stops_updates(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    cable = await connect(hub)
    try:
        identifier = await cable.subscribe(MESH, mesh_id=mesh["id"])
        await cable.next(), await cable.next()
        await cable.send({"command": "unsubscribe", "identifier": identifier})
        await cable.perform(identifier, "request_update")  # no longer subscribed: ignored
        await alice.callback(mesh["callback"], mesh["job_id"], progress=40)
        with pytest.raises(asyncio.TimeoutError):
            await cable.next(timeout=0.5)
    finally:
        cable.close()


async def test_batch_channel(hub: HubServer, alice: Api) -> None:
    batch = await alice.create_batch(["a.png", "b.png"])
    cable = await connect(hub)
    try:
        identifier = await cable.subscribe(BATCH, batch_id=batch["id"])
        assert (await cable.next())["type"] == "confirm_subscription"
        snapshot = (await cable.next())["message"]
        assert {k: snapshot[k] for k in ("batch_id", "total", "completed", "failed", "progress", "status")} == {
            "batch_id": batch["id"],
            "total": 2,
            "completed": 0,
            "failed": 0,
            "progress": 0,
            "status": "pending",
        }
        assert "estimated_remaining" in snapshot
        for mesh in batch["meshes"]:
            await alice.callback(mesh["callback"], mesh["job_id"], status="completed")
        final = await cable.messages_until(lambda m: m["status"] == "completed")
        assert final[-1]["completed"] == 2 and final[-1]["progress"] == 100
        assert identifier
    finally:
        cable.close()


async def test_concurrent_callbacks_end_on_the_latest_version(hub: HubServer, alice: Api) -> None:
    meshes = [await alice.create_mesh() for _ in range(4)]
    cable = await connect(hub)
    try:
        for mesh in meshes:
            await cable.subscribe(MESH, mesh_id=mesh["id"])
            await cable.next(), await cable.next()
        async with httpx.AsyncClient(base_url=hub.url, timeout=30) as worker:

            async def post(mesh: dict, progress: int) -> None:
                await worker.post(
                    CALLBACK,
                    json={"job_id": mesh["job_id"], "progress": progress},
                    headers={"X-Callback-Token": mesh["callback"]["token"]},
                )

            await asyncio.gather(*(post(m, p) for p in range(1, 60) for m in meshes))
        stored = {}
        for mesh in meshes:
            # Reports past the per-job write budget are merged and written at the job's next slot.
            for _ in range(50):
                stored[mesh["id"]] = (await alice.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()
                if stored[mesh["id"]]["progress"] == 59:
                    break
                await asyncio.sleep(0.1)
            assert stored[mesh["id"]]["progress"] == 59
        await asyncio.sleep(0.3)
        for mesh in meshes:
            stored[mesh["id"]] = (await alice.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()
        latest: dict[int, dict] = {}
        deadline = asyncio.get_running_loop().time() + 10
        while any(latest.get(i, {}).get("version") != s["version"] for i, s in stored.items()):
            frame = await cable.next(timeout=max(0.1, deadline - asyncio.get_running_loop().time()))
            message = frame["message"]
            previous = latest.get(message["mesh_id"])
            assert previous is None or message["version"] > previous["version"], "a stale update was delivered"
            latest[message["mesh_id"]] = message
        assert all(latest[i]["progress"] == 59 for i in stored)
    finally:
        cable.close()


@pytest.mark.slow  # 1,000 callbacks through a real server
async def test_a_burst_of_1000_callbacks_makes_few_frames_ending_on_the_final_state(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    cable = await connect(hub)
    try:
        await cable.subscribe(MESH, mesh_id=mesh["id"])
        await cable.next(), await cable.next()
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=hub.url, timeout=30, limits=httpx.Limits(max_connections=20)) as worker:
            headers = {"X-Callback-Token": mesh["callback"]["token"]}

            async def post(seq: int) -> None:
                response = await worker.post(
                    CALLBACK, json={"job_id": mesh["job_id"], "progress": seq / 10, "seq": seq}, headers=headers
                )
                assert response.status_code == 202

            await asyncio.gather(*(post(seq) for seq in range(1, 1000)))
            await worker.post(
                CALLBACK, json={"job_id": mesh["job_id"], "status": "completed", "seq": 1000}, headers=headers
            )
        elapsed = time.monotonic() - started
        frames = await cable.messages_until(lambda m: m["status"] == "completed")
        assert frames[-1]["progress"] == 100
        # One frame per 0.1 s interval, plus the status changes (to processing, to completed), plus slack.
        assert len(frames) <= elapsed / 0.1 + 4, (len(frames), elapsed)
        assert [f["version"] for f in frames] == sorted({f["version"] for f in frames})
    finally:
        cable.close()


async def test_subscription_limit(hub: HubServer, alice: Api) -> None:
    batch = await alice.create_batch([f"m{n}.png" for n in range(1005)])
    cable = await connect(hub)
    try:
        for mesh_id in batch["mesh_ids"]:  # one subscription per stream: 1,005 meshes
            await cable.send({"command": "subscribe", "identifier": json.dumps({"channel": MESH, "mesh_id": mesh_id})})
        kinds = [(await cable.next()).get("type", "message") for _ in range(1005 + 1000)]
        assert kinds.count("confirm_subscription") == 1000 and kinds.count("reject_subscription") == 5
    finally:
        cable.close()
