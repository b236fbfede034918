"""Scale-out: c.MeshProgress.dispatcher = "dask" against a real distributed.LocalCluster of separate processes."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from meshprogress_nb.demo import SAMPLES
from meshprogress_nb.samples import head_mri
from support.clients import Api
from support.server import HubServer, free_port

pytestmark = pytest.mark.slow  # a Dask scheduler and workers

API = "meshprogress/api/v1/"
#: Tetrahedra of the head MRI at 2 % edges: about 19 s of fTetWild, long enough to queue behind and cancel.
SLOW_JOB = {"source": "head.nii.gz", "params": {"kind": "tetrahedra", "format": "vtu", "edge_length": 0.02}}


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two worker processes, started as a cluster admin would."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("dask") / "dask.log"
    with log.open("wb") as out:
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--dashboard-address",
                    ":0",
                ],
                stdout=out,
                stderr=out,
            )
        ]
        time.sleep(1)
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_worker",
                    address,
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                ],
                stdout=out,
                stderr=out,
            )
        )
    try:
        asyncio.run(workers_ready(address, 2))  # a busy machine starts them slowly: jobs would wait meanwhile
        yield address
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)


async def workers_ready(address: str, count: int) -> None:
    from distributed import Client

    async with Client(address, asynchronous=True, timeout=120) as client:
        await client.wait_for_workers(count, timeout=180)


async def scheduler_tasks(address: str) -> set[str]:
    """The task keys the scheduler holds."""
    from distributed import Client

    async with Client(address, asynchronous=True) as client:
        return set(await client.run_on_scheduler(lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks]))


async def test_dask_dispatch_runs_jobs_and_cancel_cancels_the_future(scheduler: str, tmp_path: Path) -> None:
    server = HubServer(
        tmp_path,
        extra=f"c.MeshProgress.dispatcher = 'dask'\nc.MeshProgress.dask_scheduler = {scheduler!r}\n"
        "c.MeshProgress.max_smooth_iterations = 30000",
    )
    shutil.copy(head_mri(), tmp_path / "work" / "head.nii.gz")
    server.start(timeout=90)
    api = Api(server.url, "alice-token")
    try:
        done = await api.http.post(
            f"{API}meshes", json={"source": str(SAMPLES / "terrain.png"), "params": {"target_faces": 10000}}
        )
        mesh = done.json()
        deadline = time.monotonic() + 240
        while (state := (await api.http.get(f"{API}meshes/{mesh['id']}")).json())["status"] != "completed":
            assert state["status"] in ("pending", "processing") and time.monotonic() < deadline, state
            await asyncio.sleep(0.3)
        assert (await api.http.get(state["result_url"].lstrip("/"))).status_code == 200

        slow = (await api.http.post(f"{API}meshes", json=SLOW_JOB)).json()
        while (await api.http.get(f"{API}meshes/{slow['id']}")).json()["status"] != "processing":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        # Two more: one takes the other worker, the last waits in the scheduler's queue.
        busy, queued = [(await api.http.post(f"{API}meshes", json=SLOW_JOB)).json() for _ in range(2)]
        key = f"meshprogress-{queued['id']}-{queued['job_id']}"
        while key not in await scheduler_tasks(scheduler):  # submitted after the create answer: on its way
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        assert (await api.http.post(f"{API}meshes/{queued['id']}/cancel")).json()["status"] == "cancelled"
        while key in await scheduler_tasks(scheduler):  # the future was cancelled, not left to run into a 409
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        assert f"meshprogress-{busy['id']}-{busy['job_id']}" in await scheduler_tasks(scheduler)
        for job in (slow, busy):
            assert (await api.http.post(f"{API}meshes/{job['id']}/cancel")).json()["status"] == "cancelled"
        await asyncio.sleep(2)
        assert (await api.http.get(f"{API}meshes/{slow['id']}")).json()["status"] == "cancelled"
        assert "dispatching to Dask" in server.log()
    finally:
        await api.close()
        server.stop()


@pytest.mark.parametrize(
    ("limit", "job", "says"),
    [
        ("job_memory_limit = 1024 * 1024**2", {"source": "stack3", "params": {"mode": "isosurface"}}, "out of memory"),
        (  # fTetWild at 2 % edges: about 19 s on a quiet machine; the next job is done well within 5 s
            "job_time_limit = 5.0",
            {"source": "head.nii.gz", "params": {"kind": "tetrahedra", "format": "vtu", "edge_length": 0.02}},
            "5 s",
        ),
    ],
    ids=["memory", "time"],
)
async def test_a_dask_job_runs_in_a_process_of_its_own_under_its_limits(
    scheduler: str, tmp_path: Path, limit: str, job: dict, says: str
) -> None:
    """A job past its memory or time limit fails saying so; the Dask worker that ran it goes on to the next job."""
    work = tmp_path / "work"
    (work / "stack3").mkdir(parents=True)
    big = Image.new("L", (4096, 4096))
    big.paste(255, (1024, 1024, 3072, 3072))  # 3 x 4096 x 4096: over 600 MiB as float32 copies
    for i in range(3):
        big.save(work / "stack3" / f"slice-{i:02d}.png")
    shutil.copy(head_mri(), work / "head.nii.gz")  # tetrahedra of a head: seconds of fTetWild
    server = HubServer(
        tmp_path,
        extra=f"c.MeshProgress.dispatcher = 'dask'\nc.MeshProgress.dask_scheduler = {scheduler!r}\n"
        f"c.MeshProgress.{limit}",
    ).start(timeout=90)
    try:
        async with Api(server.url, "alice-token") as api:
            greedy = await api.dispatch(job["source"], **job["params"])
            failed = await api.wait_for(greedy["id"], lambda s: s["status"] not in ("pending", "processing"))
            assert failed["status"] == "failed" and says in failed["message"], failed["message"]
            small = await api.dispatch(SAMPLES / "terrain.png", target_faces=2000)
            done = await api.wait_for(small["id"], lambda s: s["status"] not in ("pending", "processing"))
            assert done["status"] == "completed", done["message"]
    finally:
        server.stop()
