"""Redis goes away for 10 s during a batch and comes back: nothing crashes, nothing accepted is lost."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from support.clients import CALLBACK, Api, Cable
from support.redis_server import RedisProcess
from support.server import HubServer

OUTAGE = 10.0


async def post_until_accepted(worker: httpx.AsyncClient, mesh: dict, body: dict, log: list[int]) -> None:
    """A worker that honours 503 + Retry-After, as the SDK does."""
    while True:
        response = await worker.post(
            CALLBACK, json={"job_id": mesh["job_id"], **body}, headers={"X-Callback-Token": mesh["callback"]["token"]}
        )
        log.append(response.status_code)
        if response.status_code != 503:
            assert response.status_code == 202, response.text
            return
        assert response.headers["Retry-After"] and "error" in response.json()
        await asyncio.sleep(float(response.headers["Retry-After"]) / 4)


async def test_redis_outage_during_a_batch(tmp_path: Path) -> None:
    store = RedisProcess(tmp_path / "redis").start()
    server = HubServer(tmp_path / "hub", redis_url=store.url).start()
    api = Api(server.url, "alice-token")
    cable = await Cable.connect(server.ws_url, "alice-token")
    statuses: list[int] = []
    try:
        batch = await api.create_batch([f"img-{i}.png" for i in range(6)])
        meshes = batch["meshes"]
        assert (await cable.next())["type"] == "welcome"
        for mesh in meshes:
            await cable.subscribe("MeshProgressChannel", mesh_id=mesh["id"])
            await cable.next(), await cable.next()
        await cable.subscribe("BatchProgressChannel", batch_id=batch["id"])
        await cable.next(), await cable.next()

        async with httpx.AsyncClient(base_url=server.url, timeout=30) as worker:

            async def run(mesh: dict, index: int) -> None:
                for seq, progress in enumerate(range(0, 100, 5), start=1):
                    await post_until_accepted(worker, mesh, {"progress": progress, "seq": seq}, statuses)
                    await asyncio.sleep(0.5)
                final = {"status": "failed", "message": "bad pixels"} if index == 0 else {"status": "completed"}
                await post_until_accepted(worker, mesh, {**final, "seq": 100}, statuses)

            workers = asyncio.gather(*(run(m, i) for i, m in enumerate(meshes)))
            await asyncio.sleep(2)
            store.kill()
            outage_started = time.monotonic()
            # While Redis is away the server still answers, with 503 for what needs the store.
            during = await api.http.get(f"meshprogress/api/v1/meshes/{meshes[0]['id']}")
            assert during.status_code == 503 and "error" in during.json()
            await asyncio.sleep(OUTAGE - (time.monotonic() - outage_started))
            store.start()
            await asyncio.wait_for(workers, 120)

        assert 503 in statuses, "the outage was not seen by the workers"
        expected = {m["id"]: ("failed" if i == 0 else "completed") for i, m in enumerate(meshes)}
        latest: dict[int, dict] = {}
        batch_final: dict = {}
        deadline = asyncio.get_running_loop().time() + 30
        while (
            any(latest.get(i, {}).get("status") != s for i, s in expected.items())
            or batch_final.get("status") != "failed"
        ):
            frame = await cable.next(timeout=max(0.1, deadline - asyncio.get_running_loop().time()))
            message = frame.get("message")
            if not message:
                continue
            if "total" in message:
                batch_final = message
            else:
                latest[message["mesh_id"]] = message
        for mesh in meshes:
            stored = (await api.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()
            assert stored["status"] == expected[mesh["id"]] and latest[mesh["id"]]["version"] == stored["version"]
        assert (batch_final["completed"], batch_final["failed"]) == (5, 1)
    finally:
        cable.close()
        await api.close()
        server.stop()
        store.kill()
