"""No dispatched job stays pending for ever: a job whose process cannot start it (the mesher's extra missing)
fails at once saying what to install, and one that no worker takes up fails after ``start_timeout``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

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


async def test_a_missing_mesher_extra_fails_the_job_at_once_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", without_numpy(tmp_path))
    server = HubServer(tmp_path / "hub", extra="c.MeshProgress.pool_size = 1").start(timeout=120)
    api = Api(server.url, "alice-token")
    try:
        mesh = await api.dispatch(SAMPLES / "terrain.png")
        failed = await api.wait_for(mesh["id"], lambda s: s["status"] not in ("pending", "processing"), timeout=60)
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
        failed = await api.wait_for(dispatched["id"], lambda s: s["status"] != "pending", timeout=30)
        assert failed["status"] == "failed" and "Not started within 1 s" in failed["message"], failed
        retried = (await api.http.post(f"{API}meshes/{dispatched['id']}/retry")).json()
        assert retried["status"] == "pending"
        again = await api.wait_for(dispatched["id"], lambda s: s["status"] != "pending", timeout=30)
        assert again["status"] == "failed" and again["attempt"] == 2  # the retry is watched too
        assert (await api.http.get(f"{API}meshes/{remote['id']}")).json()["status"] == "pending"
    finally:
        await api.close()
        server.stop()


async def test_a_job_queued_behind_others_in_the_pool_is_not_failed_for_waiting(tmp_path: Path) -> None:
    start_timeout = 0.5
    server = HubServer(
        tmp_path,
        extra=f"c.MeshProgress.pool_size = 1\nc.MeshProgress.start_timeout = {start_timeout}\n"
        "c.MeshProgress.stall_check_interval = 0.2",
    ).start(timeout=120)
    api = Api(server.url, "alice-token")
    try:
        shutil.copy2(head_mri(), tmp_path / "work" / "head.nii.gz")  # a job of seconds: tetrahedra of a head
        first = await api.dispatch("head.nii.gz", kind="tetrahedra", format="vtu")
        created = time.monotonic()
        queued = await api.dispatch("head.nii.gz", kind="tetrahedra", format="vtu")
        started = await api.wait_for(queued["id"], lambda s: s["status"] != "pending")
        waited = time.monotonic() - created
        done = await api.wait_for(queued["id"], lambda s: s["status"] not in ("pending", "processing"))
        assert waited > start_timeout + 0.5, f"the first job took {waited:.1f} s: too short to show anything"
        assert started["status"] == "processing" and done["status"] == "completed", done
        assert (await api.http.get(f"{API}meshes/{first['id']}")).json()["status"] == "completed"
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
