"""No dispatched job stays pending for ever: a job whose process cannot start it (the mesher's extra missing)
fails at once saying what to install, and one that no worker takes up fails after ``start_timeout``."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from meshprogress_nb.demo import SAMPLES
from meshprogress_nb.samples import head_mri
from support.clients import Api
from support.server import TESTS, HubServer

pytestmark = pytest.mark.slow  # servers whose jobs cannot start


API = "meshprogress/api/v1/"
INSTALL = 'pip install "meshprogress-nb[mesher]"'


def without_numpy(tmp_path: Path) -> str:
    """A PYTHONPATH whose ``numpy`` fails to import, as after ``pip install .`` without the extra."""
    fake = tmp_path / "no-numpy" / "numpy"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'numpy'\", name='numpy')\n")
    return os.pathsep.join(filter(None, [str(fake.parent), os.environ.get("PYTHONPATH")]))


async def wait_for(api: Api, mesh_id: int, predicate: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = (await api.http.get(f"{API}meshes/{mesh_id}")).json()
        if predicate(state):
            return state
        assert asyncio.get_running_loop().time() < deadline, (state["status"], state["message"])
        await asyncio.sleep(0.2)


async def test_a_missing_mesher_extra_fails_the_job_at_once_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", without_numpy(tmp_path))
    server = HubServer(tmp_path / "hub", extra="c.MeshProgress.pool_size = 1").start(timeout=120)
    api = Api(server.url, "alice-token")
    try:
        response = await api.http.post(f"{API}meshes", json={"source": str(SAMPLES / "terrain.png")})
        assert response.status_code == 201, response.text
        failed = await wait_for(
            api, response.json()["id"], lambda s: s["status"] != "pending" and s["status"] != "processing"
        )
        assert failed["status"] == "failed" and INSTALL in failed["message"], failed
    finally:
        await api.close()
        server.stop()


@pytest.mark.parametrize("backend", ["embedded", "redis"])
async def test_a_dispatched_job_nobody_starts_fails_after_start_timeout(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("redis_url") if backend == "redis" else ""
    server = HubServer(
        tmp_path,
        redis_url=url,
        redis_prefix=f"test-{uuid.uuid4().hex[:8]}:",
        extra="c.MeshProgress.dispatcher = 'none'\nc.MeshProgress.start_timeout = 1.0\n"
        "c.MeshProgress.stall_check_interval = 0.2",
    ).start(timeout=120)
    api = Api(server.url, "alice-token")
    try:
        dispatched = (await api.http.post(f"{API}meshes", json={"source": "images/a.png"})).json()
        remote = await api.create_mesh()  # dispatch: false, for a worker started elsewhere: may wait
        failed = await wait_for(api, dispatched["id"], lambda s: s["status"] != "pending", timeout=30)
        assert failed["status"] == "failed" and "Not started within 1 s" in failed["message"], failed
        retried = (await api.http.post(f"{API}meshes/{dispatched['id']}/retry")).json()
        assert retried["status"] == "pending"
        again = await wait_for(api, dispatched["id"], lambda s: s["status"] != "pending", timeout=30)
        assert again["status"] == "failed" and again["attempt"] == 2  # the retry is watched too
        assert (await api.http.get(f"{API}meshes/{remote['id']}")).json()["status"] == "pending"
    finally:
        await api.close()
        server.stop()


async def test_a_job_queued_behind_others_in_the_pool_is_not_failed_for_waiting(tmp_path: Path) -> None:
    server = HubServer(
        tmp_path,
        extra="c.MeshProgress.pool_size = 1\nc.MeshProgress.start_timeout = 2.0\n"
        "c.MeshProgress.stall_check_interval = 0.2\nc.MeshProgress.max_smooth_iterations = 100000",
    ).start(timeout=120)
    api = Api(server.url, "alice-token")
    try:
        volume = head_mri()
        assert volume is not None, "the [mesher] extra ships the MRI volume (nibabel)"
        shutil.copy2(volume, tmp_path / "work" / "head.nii.gz")  # a job of tens of seconds: tetrahedra of a head
        slow = {"source": "head.nii.gz", "params": {"kind": "tetrahedra", "format": "vtu"}}
        first = (await api.http.post(f"{API}meshes", json=slow)).json()
        queued = (await api.http.post(f"{API}meshes", json=slow)).json()
        await wait_for(api, first["id"], lambda s: s["status"] == "processing")
        await asyncio.sleep(3)  # the queued job is now older than start_timeout, the first one still running
        states = [(await api.http.get(f"{API}meshes/{m['id']}")).json()["status"] for m in (first, queued)]
        assert states == ["processing", "pending"]
        for mesh in (first, queued):
            await api.http.post(f"{API}meshes/{mesh['id']}/cancel")
    finally:
        await api.close()
        server.stop()


def test_the_demo_says_which_extra_to_install(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([without_numpy(tmp_path), str(TESTS.parent)])}
    done = subprocess.run(
        [sys.executable, "-m", "meshprogress_nb", "demo", "--headless", "--dir", str(tmp_path / "demo")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and INSTALL in done.stderr, done.stderr
