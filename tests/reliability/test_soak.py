"""Soak: many jobs, random faults (Redis restarts, a hub server SIGKILLed, workers dying), then invariants.

Bounded for CI (MESHPROGRESS_SOAK_SECONDS, default 60); set it higher to soak for longer. Invariants at the end:
each job's final state is its worker's last accepted report (or failed by the stall timeout if its worker died),
each subscriber's last message equals the store's state, and the watching server's memory is flat.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from support.clients import CALLBACK, Api, Cable
from support.redis_server import RedisProcess
from support.server import HubServer

SECONDS = float(os.environ.get("MESHPROGRESS_SOAK_SECONDS", "60"))
JOBS = 24
STALL = 10.0
"""Far above a live worker's longest silence (0.4 s between reports, retries every 0.2 s) on a busy machine."""


@dataclass
class Worker:
    mesh: dict
    dies_at: float | None
    last_accepted: dict = field(default_factory=dict)
    died: bool = False


async def run_worker(worker: Worker, servers: list[HubServer], http: httpx.AsyncClient, stop_at: float) -> None:
    """Reports with increasing seq through whichever server answers; retries 503s and refused connections."""
    seq = 0
    rng = random.Random(worker.mesh["id"])
    progress = 0.0
    while True:
        now = time.monotonic()
        if worker.dies_at is not None and now >= worker.dies_at:
            worker.died = True
            return
        progress = min(99.0, progress + rng.uniform(0.5, 4))
        finished = now >= stop_at or progress >= 99
        body = {"progress": progress, "message": f"step {seq}"}
        if finished:
            body = {"status": rng.choice(["completed", "completed", "failed"]), "message": "done"}
        seq += 1
        while True:
            server = rng.choice(servers)
            try:
                response = await http.post(
                    server.url + CALLBACK,
                    json={"job_id": worker.mesh["job_id"], "seq": seq, **body},
                    headers={"X-Callback-Token": worker.mesh["callback"]["token"]},
                )
            except httpx.TransportError:
                await asyncio.sleep(0.2)
                continue
            if response.status_code == 503:
                await asyncio.sleep(0.2)
                continue
            assert response.status_code == 202, response.text
            worker.last_accepted = body
            break
        if finished:
            return
        await asyncio.sleep(rng.uniform(0.05, 0.4))


async def test_soak_with_random_faults(tmp_path: Path) -> None:
    store = RedisProcess(tmp_path / "redis").start()
    stall = f"c.MeshProgress.stall_timeout = {STALL}\nc.MeshProgress.stall_check_interval = 0.5"
    a = HubServer(tmp_path / "a", redis_url=store.url, extra=stall).start()
    b = HubServer(tmp_path / "b", redis_url=store.url, extra=stall).start()
    api = Api(b.url, "alice-token")
    cable = await Cable.connect(b.ws_url, "alice-token")
    rng = random.Random(20261129)
    faults: list[str] = []
    try:
        meshes = [await api.create_mesh(f"soak-{i}.png") for i in range(JOBS)]
        assert (await cable.next())["type"] == "welcome"
        for mesh in meshes:
            await cable.subscribe("MeshProgressChannel", mesh_id=mesh["id"])
        latest: dict[int, dict] = {}

        async def listen() -> None:
            while True:
                frame = await cable.next(timeout=3600)
                message = frame.get("message")
                if isinstance(message, dict):
                    previous = latest.get(message["mesh_id"])
                    assert previous is None or message["version"] > previous["version"], "stale update delivered"
                    latest[message["mesh_id"]] = message

        listener = asyncio.ensure_future(listen())
        await asyncio.sleep(1)
        rss_start = psutil.Process(b.process.pid).memory_info().rss  # type: ignore[union-attr]
        started = time.monotonic()
        stop_at = started + SECONDS
        workers = [Worker(m, started + rng.uniform(2, SECONDS) if rng.random() < 0.2 else None) for m in meshes]
        async with httpx.AsyncClient(timeout=30) as http:
            tasks = asyncio.gather(*(run_worker(w, [a, b], http, stop_at) for w in workers))
            while time.monotonic() < stop_at - 3:
                await asyncio.sleep(rng.uniform(3, 8))
                fault = rng.choice(["redis", "server", "none"])
                faults.append(fault)
                # Restarts wait for the process in a thread: blocking this loop would silence every worker
                # (they run on it) and let the stall sweep fail live jobs, as a slow restart on a busy machine did.
                if fault == "redis":
                    store.kill()
                    await asyncio.sleep(rng.uniform(0.5, 3))
                    await asyncio.to_thread(store.start)
                elif fault == "server":
                    a.kill()
                    await asyncio.sleep(rng.uniform(0.5, 2))
                    await asyncio.to_thread(a.start)
            await asyncio.wait_for(tasks, SECONDS + 120)
        await asyncio.sleep(STALL + 3)  # dead workers' jobs are failed by the stall sweep

        for worker in workers:
            stored = (await api.http.get(f"meshprogress/api/v1/meshes/{worker.mesh['id']}")).json()
            if worker.died and stored["status"] == "failed" and "No progress report" in stored["message"]:
                continue
            assert not worker.died or worker.last_accepted.get("status"), (worker.mesh["id"], stored)
            expected = worker.last_accepted
            assert stored["status"] == expected.get("status", "processing"), (stored, expected)
            assert stored["message"] == expected["message"]
        deadline = time.monotonic() + 20
        while True:
            mismatched = []
            for worker in workers:
                stored = (await api.http.get(f"meshprogress/api/v1/meshes/{worker.mesh['id']}")).json()
                seen = latest.get(worker.mesh["id"], {})
                if seen.get("version") != stored["version"]:
                    mismatched.append((worker.mesh["id"], seen.get("version"), stored["version"]))
            if not mismatched:
                break
            assert time.monotonic() < deadline, f"subscriber behind the store: {mismatched}"
            await asyncio.sleep(0.5)
        grown = psutil.Process(b.process.pid).memory_info().rss - rss_start  # type: ignore[union-attr]
        assert grown < 50 * 1024 * 1024, f"server memory grew by {grown / 2**20:.1f} MiB over the soak"
        assert faults, "no fault was injected"
        listener.cancel()
    finally:
        cable.close()
        await api.close()
        a.stop()
        b.stop()
        store.kill()
