"""Hub behaviour that needs time to pass: stalled workers are failed, and Retry recovers them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.clients import Api, Cable
from support.server import HubServer


async def test_a_silent_worker_is_failed_after_stall_timeout_and_retry_works(tmp_path: Path) -> None:
    server = HubServer(
        tmp_path, extra="c.MeshProgress.stall_timeout = 1.0\nc.MeshProgress.stall_check_interval = 0.2"
    ).start()
    api = Api(server.url, "alice-token")
    cable = await Cable.connect(server.ws_url, "alice-token")
    try:
        mesh = await api.create_mesh()
        await cable.next()
        await cable.subscribe("MeshProgressChannel", mesh_id=mesh["id"])
        await cable.next(), await cable.next()
        await api.callback(mesh["callback"], mesh["job_id"], progress=10)
        frames = await cable.messages_until(lambda m: m["status"] == "failed", timeout=10)
        assert "No progress report for 1 s" in frames[-1]["message"]
        late = await api.callback(mesh["callback"], mesh["job_id"], progress=20)
        assert late.status_code == 409 and late.json()["status"] == "failed"
        retried = (await api.http.post(f"meshprogress/api/v1/meshes/{mesh['id']}/retry")).json()
        assert retried["status"] == "pending"
        await asyncio.sleep(1.5)  # pending jobs are not "stalled": nothing has started them yet
        assert (await api.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()["status"] == "pending"
    finally:
        cable.close()
        await api.close()
        server.stop()
