"""Dispatched jobs read only inside the server's root and its configured ``source_dirs``: absolute paths, ``..``,
``~`` and symlinks that lead elsewhere are refused at creation with one 422, the same whether the path exists."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from meshprogress_nb.demo import SAMPLES
from meshprogress_nb.server.sources import REFUSED
from support.clients import Api
from support.server import HubServer

pytestmark = pytest.mark.slow  # a server with a real pool


API = "meshprogress/api/v1/"


@pytest.fixture(scope="module")
def confined_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    root = tmp_path_factory.mktemp("sources")
    server = HubServer(root, extra="c.MeshProgress.pool_size = 1")
    images = root / "work" / "images"
    images.mkdir(parents=True)
    shutil.copy(SAMPLES / "terrain.png", root / "secret.png")  # next to the root, not in it
    shutil.copy(SAMPLES / "terrain.png", images / "inside.png")
    os.symlink(root / "secret.png", images / "escape.png")
    os.symlink(images / "inside.png", images / "alias.png")
    (root / "secret-dir").mkdir()
    os.symlink(root / "secret-dir", images / "escape-dir")
    server.start(timeout=120)
    yield server
    server.stop()


@pytest.fixture
async def alice(confined_hub: HubServer) -> AsyncIterator[Api]:
    async with Api(confined_hub.url, "alice-token") as api:
        yield api


def outside_sources(root: Path) -> list[str]:
    return [
        "/etc/passwd",  # exists
        "/etc/no-such-file-here.png",  # does not
        str(root / "secret.png"),
        "../secret.png",
        "images/../../secret.png",
        "~/secret.png",
        "~no-such-user/x.png",
        "images/escape.png",  # a symlink inside the root to a file outside
        "images/escape-dir/slice.png",
        f"images/inside.png{os.pathsep}/etc/passwd",  # a stack of slices, one of them outside
    ]


async def test_sources_outside_the_allowed_folders_get_one_422(confined_hub: HubServer, alice: Api) -> None:
    answers = set()
    for source in outside_sources(confined_hub.root):
        response = await alice.http.post(f"{API}meshes", json={"source": source})
        assert response.status_code == 422, (source, response.text)
        answers.add(response.text)
    assert answers == {f'{{"error": "{REFUSED}", "field": "source"}}'}  # nothing tells which paths exist
    listed = (await alice.http.get(f"{API}meshes")).json()["meshes"]
    assert listed == []  # nothing was created, so nothing was meshed or served


async def test_a_batch_with_one_outside_source_is_refused_whole(alice: Api) -> None:
    response = await alice.http.post(f"{API}batches", json={"sources": ["images/inside.png", "/etc/passwd"]})
    assert response.status_code == 422 and response.json() == {"error": REFUSED, "field": "sources"}
    assert (await alice.http.get(f"{API}batches")).json()["batches"] == []


async def test_sources_inside_the_root_or_source_dirs_are_accepted(confined_hub: HubServer, alice: Api) -> None:
    root = confined_hub.root / "work"
    for source in ["images/alias.png", str(root / "images" / "inside.png"), str(SAMPLES / "crater.png")]:
        response = await alice.http.post(f"{API}meshes", json={"source": source, "params": {"target_faces": 1000}})
        assert response.status_code == 201, (source, response.text)
        await alice.http.post(f"{API}meshes/{response.json()['id']}/cancel")


async def test_jobs_for_other_workers_keep_their_source_as_given(alice: Api) -> None:
    """Without dispatch the server never opens the source: it is a name for the worker, not a path here."""
    response = await alice.http.post(f"{API}meshes", json={"source": "/etc/passwd", "dispatch": False})
    assert response.status_code == 201 and response.json()["source"] == "/etc/passwd"
