"""Redis goes away for 10 s during a batch and comes back: nothing crashes, nothing accepted is lost."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from meshprogress_nb.worker import ProgressReporter
from support.clients import Api, Cable
from support.redis_server import RedisProcess
from support.server import HubServer

OUTAGE = 10.0


async def test_redis_outage_during_a_batch(tmp_path: Path) -> None:
    store = RedisProcess(tmp_path / "redis").start()
    server = HubServer(tmp_path / "hub", redis_url=store.url).start()
    api = Api(server.url, "alice-token")
    cable = await Cable.connect(server.ws_url, "alice-token")
    try:
        batch = await api.create_batch([f"img-{i}.png" for i in range(6)])
        meshes = batch["meshes"]
        assert (await cable.next())["type"] == "welcome"
        for mesh in meshes:
            await cable.subscribe("MeshProgressChannel", mesh_id=mesh["id"])
            await cable.next(), await cable.next()
        await cable.subscribe("BatchProgressChannel", batch_id=batch["id"])
        await cable.next(), await cable.next()

        def run(mesh: dict, index: int) -> None:
            """A worker using the SDK, which honours 503 + Retry-After and retries until the store is back."""
            reporter = ProgressReporter(
                mesh["callback"]["url"],
                mesh["job_id"],
                mesh["callback"]["token"],
                min_interval=0.1,
                max_retry_seconds=120,
            )
            for progress in range(0, 100, 5):
                reporter.update(progress, f"at {progress}")
                time.sleep(0.5)
            if index == 0:
                reporter.fail("bad pixels")
            else:
                reporter.complete()
            assert reporter.close(timeout=120)

        workers = asyncio.gather(*(asyncio.to_thread(run, m, i) for i, m in enumerate(meshes)))
        await asyncio.sleep(2)
        store.kill()
        outage_started = time.monotonic()
        # While Redis is away the server still answers, with 503 for what needs the store.
        during = await api.http.get(f"meshprogress/api/v1/meshes/{meshes[0]['id']}")
        assert during.status_code == 503 and "error" in during.json() and during.headers["Retry-After"]
        await asyncio.sleep(OUTAGE - (time.monotonic() - outage_started))
        store.start()
        await asyncio.wait_for(workers, 180)

        assert "503 POST /meshprogress/api/v1/mesh_callbacks/progress" in server.log(), "no worker saw the outage"
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
