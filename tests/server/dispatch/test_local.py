"""The embedded default dispatcher: jobs run in local worker processes and report by HTTP like any worker."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import trimesh

from meshprogress_nb.demo import SAMPLES
from meshprogress_nb.samples import head_mri
from support.clients import Api
from support.server import HubServer

pytestmark = pytest.mark.slow  # a server with a real process pool


API = "meshprogress/api/v1/"
SLOW = {"smooth_iterations": 20000}  # seconds of real work per job, so there is time to cancel or kill it


@pytest.fixture(scope="module")
def local_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    server = HubServer(
        tmp_path_factory.mktemp("local"),
        extra="c.MeshProgress.pool_size = 1\nc.MeshProgress.max_smooth_iterations = 20000",
    ).start()
    yield server
    server.stop()


@pytest.fixture
async def owner(local_hub: HubServer) -> AsyncIterator[Api]:
    async with Api(local_hub.url, "alice-token") as api:
        yield api


async def test_a_dispatched_job_completes_and_its_result_is_served_to_its_owner(
    local_hub: HubServer, owner: Api
) -> None:
    mesh = await owner.dispatch(SAMPLES / "terrain.png", target_faces=20000, format="stl")
    done = await owner.wait_for(mesh["id"], lambda s: s["status"] in ("completed", "failed"))
    assert done["status"] == "completed", done["message"]
    assert done["result_url"] == f"/meshprogress/api/v1/meshes/{mesh['id']}/result"
    download = await owner.http.get(done["result_url"].lstrip("/"))
    assert download.status_code == 200 and "terrain" in download.headers["Content-Disposition"]
    loaded = trimesh.load(trimesh.util.wrap_as_stream(download.content), file_type="stl")
    assert 0 < len(loaded.faces) <= 20000
    bob = Api(local_hub.url, "bob-token")
    try:
        assert (await bob.http.get(done["result_url"].lstrip("/"))).status_code == 404
    finally:
        await bob.close()


async def test_cancel_stops_a_running_job_and_retry_runs_it_again(owner: Api) -> None:
    mesh = await owner.dispatch(SAMPLES / "crater.png", **SLOW)
    await owner.wait_for(mesh["id"], lambda s: s["status"] == "processing" and s["progress"] > 5)
    cancelled = (await owner.http.post(f"{API}meshes/{mesh['id']}/cancel")).json()
    assert cancelled["status"] == "cancelled"
    await asyncio.sleep(2)
    assert (await owner.http.get(f"{API}meshes/{mesh['id']}")).json()["status"] == "cancelled"
    retried = (await owner.http.post(f"{API}meshes/{mesh['id']}/retry")).json()
    assert retried["attempt"] == 2
    running = await owner.wait_for(mesh["id"], lambda s: s["status"] == "processing" and s["attempt"] == 2)
    assert running["job_id"] == retried["job_id"]
    await owner.http.post(f"{API}meshes/{mesh['id']}/cancel")


async def test_a_killed_worker_process_fails_its_job_and_retry_works(local_hub: HubServer, owner: Api) -> None:
    mesh = await owner.dispatch(SAMPLES / "ripples.png", **SLOW)
    await owner.wait_for(mesh["id"], lambda s: s["status"] == "processing" and s["progress"] > 5)
    server = psutil.Process(local_hub.process.pid)  # type: ignore[union-attr]
    workers = [p for p in server.children(recursive=True) if "multiprocessing" in " ".join(p.cmdline())]
    assert workers, "no pool process found"
    for process in workers:
        os.kill(process.pid, signal.SIGKILL)
    failed = await owner.wait_for(mesh["id"], lambda s: s["status"] == "failed", timeout=60)
    assert "worker process died" in failed["message"]
    await owner.http.post(f"{API}meshes/{mesh['id']}/retry")
    await owner.wait_for(mesh["id"], lambda s: s["status"] == "processing" and s["attempt"] == 2)
    await owner.http.post(f"{API}meshes/{mesh['id']}/cancel")


async def test_a_missing_image_fails_with_a_clear_message(owner: Api) -> None:
    mesh = await owner.dispatch(Path("no/such/image.png"))
    failed = await owner.wait_for(mesh["id"], lambda s: s["status"] == "failed")
    assert "no such file" in failed["message"].lower() and "image.png" in failed["message"]


async def test_a_batch_runs_to_completed(local_hub: HubServer, owner: Api) -> None:
    sources = [str(p) for p in sorted(SAMPLES.glob("*.png"))]
    async with httpx.AsyncClient(base_url=local_hub.url, headers={"Authorization": "token alice-token"}) as http:
        batch = (await http.post(f"{API}batches", json={"sources": sources, "params": {"target_faces": 5000}})).json()
        deadline = asyncio.get_running_loop().time() + 180
        while (state := (await http.get(f"{API}batches/{batch['id']}")).json())["status"] != "completed":
            assert state["status"] in ("pending", "processing"), state
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.3)
        assert state["completed"] == 3 and state["progress"] == 100


async def test_stopping_the_server_stops_its_pool_processes_running_jobs_included(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    shutil.copy(head_mri(), tmp_path / "work" / "head.nii.gz")  # tetrahedra of a head: seconds of work
    server = HubServer(tmp_path, extra="c.MeshProgress.pool_size = 1").start()
    try:
        async with Api(server.url, "alice-token") as api:
            mesh = await api.dispatch("head.nii.gz", kind="tetrahedra", format="vtu")
            await api.wait_for(mesh["id"], lambda s: s["status"] == "processing")
        assert server.process is not None
        pool = [
            p
            for p in psutil.Process(server.process.pid).children(recursive=True)
            if "multiprocessing" in " ".join(p.cmdline())
        ]
        assert pool, "no pool process found"
    finally:
        server.stop()
    gone, alive = psutil.wait_procs(pool, timeout=30)
    assert not alive, [p.cmdline() for p in alive]
