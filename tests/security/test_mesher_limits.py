"""The mesher runs within bounds: parameters are capped at creation (422 naming the parameter), inputs past the
size caps fail before they are decoded, each job runs under a memory cap and a wall-time limit in its process,
and the local pool serves users in turn rather than in one FIFO."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from meshprogress_nb.demo import SAMPLES
from meshprogress_nb.samples import head_mri
from support.clients import Api
from support.server import HubServer

pytestmark = pytest.mark.slow  # real pool jobs past their limits


API = "meshprogress/api/v1/"
SLOW = {"kind": "tetrahedra", "format": "vtu"}  # tetrahedra of a head MRI: far past the 8 s time limit
HEAD = "head.nii.gz"
MEMORY_LIMIT = 1024 * 1024**2  # room for the mesher's libraries, not for a 50 M voxel volume
CONFIG = f"""
c.MeshProgress.pool_size = 1
c.MeshProgress.max_source_bytes = 1_000_000
c.MeshProgress.max_smooth_iterations = 100_000
c.MeshProgress.job_memory_limit = {MEMORY_LIMIT}
c.MeshProgress.job_time_limit = 8.0
"""


@pytest.fixture(scope="module")
def limited_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    root = tmp_path_factory.mktemp("limits")
    work = root / "work"
    big = Image.new("L", (4096, 4096))
    big.paste(255, (1024, 1024, 3072, 3072))  # a body to mesh (a uniform volume fails before it costs memory)
    for count, folder in ((16, "stack16"), (3, "stack3")):  # 16: the input (375 KiB of PNG, 3.9 GiB)
        (work / folder).mkdir(parents=True)
        big.save(work / folder / "slice-00.png")
        for i in range(1, count):
            shutil.copy(work / folder / "slice-00.png", work / folder / f"slice-{i:02d}.png")
    noise = np.random.default_rng(0).integers(0, 255, (700, 700, 3), dtype=np.uint8)
    Image.fromarray(noise).save(work / "noise.png")  # ~1.4 MB of incompressible PNG, only 490,000 pixels
    shutil.copy(head_mri(), work / HEAD)
    server = HubServer(root, extra=CONFIG).start(timeout=120)
    yield server
    server.stop()


@pytest.fixture
async def alice(limited_hub: HubServer) -> AsyncIterator[Api]:
    async with Api(limited_hub.url, "alice-token") as api:
        yield api


def ended(state: dict[str, Any]) -> bool:
    return state["status"] in ("completed", "failed", "cancelled")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"smooth_iterations": 1_000_000}, "params.smooth_iterations"),  # the 27-minute job
        ({"smooth_iterations": -1}, "params.smooth_iterations"),
        ({"smooth_iterations": "8"}, "params.smooth_iterations"),
        ({"smooth_iterations": True}, "params.smooth_iterations"),
        ({"target_faces": 10**9}, "params.target_faces"),
        ({"target_faces": 3}, "params.target_faces"),
    ],
)
async def test_parameters_past_their_bounds_get_a_422_naming_them(
    alice: Api, params: dict[str, Any], field: str
) -> None:
    for path, body in (("meshes", {"source": "noise.png"}), ("batches", {"sources": ["noise.png"]})):
        response = await alice.http.post(f"{API}{path}", json={**body, "params": params})
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field and "c.MeshProgress.max_" in response.json()["error"]


async def test_inputs_past_the_size_caps_fail_before_they_are_decoded(alice: Api) -> None:
    stack = await alice.dispatch("stack16")  # 16 x 4096 x 4096 = 268 M voxels > max_voxels (64 Mi)
    failed = await alice.wait_for(stack["id"], ended, timeout=60)
    assert failed["status"] == "failed" and "268,435,456" in failed["message"], failed["message"]
    assert "c.MeshProgress.max_voxels" in failed["message"]
    noise = await alice.dispatch("noise.png")
    failed = await alice.wait_for(noise["id"], ended, timeout=60)
    assert failed["status"] == "failed" and "c.MeshProgress.max_source_bytes" in failed["message"]


async def test_a_job_past_its_memory_limit_fails_and_the_pool_goes_on(alice: Api) -> None:
    greedy = await alice.dispatch("stack3", mode="isosurface")  # 50 M voxels: over 600 MiB as float32 copies
    failed = await alice.wait_for(greedy["id"], ended)
    assert failed["status"] == "failed" and "out of memory" in failed["message"], failed["message"]
    assert f"{MEMORY_LIMIT // 1024**2:,} MiB" in failed["message"]
    small = await alice.dispatch(str(SAMPLES / "terrain.png"), target_faces=2000)  # same process, limit lifted
    done = await alice.wait_for(small["id"], ended)
    assert done["status"] == "completed", done["message"]


async def test_a_job_past_its_time_limit_is_stopped_and_failed(tmp_path: Path) -> None:
    """Its own server: a 1 s limit, and no memory cap that fTetWild would hit first."""
    (tmp_path / "work").mkdir()
    shutil.copy(head_mri(), tmp_path / "work" / HEAD)
    server = HubServer(tmp_path, extra="c.MeshProgress.pool_size = 1\nc.MeshProgress.job_time_limit = 1.0").start()
    api = Api(server.url, "alice-token")
    try:
        mesh = await api.dispatch(HEAD, **SLOW)
        failed = await api.wait_for(mesh["id"], ended, timeout=90)
        assert failed["status"] == "failed" and "time limit of 1 s" in failed["message"], failed["message"]
    finally:
        await api.close()
        server.stop()


async def test_the_pool_serves_users_in_turn(tmp_path: Path) -> None:
    """Alice's batch takes the only process first; Bob's job, queued after it, runs next, not after all of it.
    Its own server: fTetWild's threads can die under limited_hub's memory cap before the order shows."""
    (tmp_path / "work").mkdir()
    shutil.copy(head_mri(), tmp_path / "work" / HEAD)
    server = HubServer(tmp_path, extra="c.MeshProgress.pool_size = 1").start()
    try:
        async with Api(server.url, "alice-token") as alice, Api(server.url, "bob-token") as bob:
            body = {"sources": [HEAD] * 3, "params": SLOW}
            batch = (await alice.http.post(f"{API}batches", json=body)).json()
            first, *rest = batch["mesh_ids"]
            await alice.wait_for(first, lambda s: s["status"] == "processing")
            theirs = await bob.dispatch(HEAD, **SLOW)
            await alice.http.post(f"{API}meshes/{first}/cancel")
            await bob.wait_for(theirs["id"], lambda s: s["status"] != "pending")
            assert [(await alice.http.get(f"{API}meshes/{i}")).json()["status"] for i in rest] == ["pending"] * 2
            await alice.http.post(f"{API}batches/{batch['id']}/cancel")
            await bob.http.post(f"{API}meshes/{theirs['id']}/cancel")
    finally:
        server.stop()
