"""A job's files over HTTP: the result download (HEAD for its size, a sane file name) and the preview a browser
draws (the worker's decimated copy, else a small result itself), for those who may read the job only."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshprogress_nb.models import Mesh
from meshprogress_nb.server.dispatch import find_preview, result_path
from meshprogress_nb.server.handlers import download_name
from support.clients import Api
from support.server import HubServer

API = "meshprogress/api/v1/"
PLY = b"ply\nformat binary_little_endian 1.0\nelement vertex 0\nelement face 0\nend_header\n"


def results_dir(hub: HubServer) -> Path:
    path = hub.root / "data" / "meshprogress" / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def mesh_of(record: dict) -> Mesh:
    return Mesh(id=record["id"], user=record["user"], source=record["source"], job_id=record["job_id"])


async def test_the_preview_is_the_workers_decimated_copy_for_readers_only(hub: HubServer, alice: Api, bob: Api) -> None:
    record = await alice.create_mesh(name="terrain (single)")
    result = result_path(results_dir(hub), mesh_of(record), "stl")
    result.write_bytes(b"solid" + b"\0" * 200)
    result.with_name(result.stem + ".preview.ply").write_bytes(PLY)

    preview = await alice.http.get(f"{API}meshes/{record['id']}/preview")
    assert preview.status_code == 200 and preview.content == PLY
    assert preview.headers["Content-Disposition"] == 'inline; filename="terrain_single.preview.ply"'

    head = await alice.http.head(f"{API}meshes/{record['id']}/result")
    assert head.status_code == 200 and head.headers["Content-Length"] == "205" and head.content == b""
    download = await alice.http.get(f"{API}meshes/{record['id']}/result")
    assert download.headers["Content-Disposition"] == 'attachment; filename="terrain_single.stl"'
    assert len(download.content) == 205

    for route in ("preview", "result"):
        theirs = await bob.http.get(f"{API}meshes/{record['id']}/{route}")
        assert theirs.status_code == 404 and theirs.json()["error"].startswith("Mesh")


async def test_without_a_preview_file_a_small_result_is_its_own_preview(hub: HubServer, alice: Api) -> None:
    record = await alice.create_mesh("scans/brain.png")
    missing = await alice.http.get(f"{API}meshes/{record['id']}/preview")
    assert missing.status_code == 409
    assert missing.json() == {"error": f"Mesh {record['id']} has no preview file (pending)"}
    result_path(results_dir(hub), mesh_of(record), "ply").write_bytes(PLY)
    preview = await alice.http.get(f"{API}meshes/{record['id']}/preview")
    assert preview.status_code == 200 and preview.content == PLY
    assert preview.headers["Content-Disposition"] == 'inline; filename="brain.ply"'


def test_a_large_result_without_a_preview_file_has_no_preview(tmp_path: Path) -> None:
    mesh = Mesh(id=4, user="alice", source="a.png", job_id="j")
    result = result_path(tmp_path, mesh, "obj")
    result.write_bytes(b"v 0 0 0\n" * 100)
    assert find_preview(tmp_path, mesh, max_bytes=800) == result
    assert find_preview(tmp_path, mesh, max_bytes=799) is None
    preview = result.with_name(result.stem + ".preview.ply")
    preview.write_bytes(PLY)
    assert find_preview(tmp_path, mesh, max_bytes=10) == preview


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("terrain (single)", "terrain_single.ply"),
        ("brain.png", "brain.ply"),
        ("scan.nii.gz", "scan.ply"),
        ("run 1/../../etc", "run_1_etc.ply"),
        ('a"b;c\r\nd', "a_b_c_d.ply"),
        ("Gehirn-ü-2", "Gehirn-_-2.ply"),
        ("((()))", "mesh-9.ply"),
        ("", "mesh-9.ply"),
    ],
)
def test_download_names_are_the_job_name_in_safe_characters(name: str, expected: str) -> None:
    mesh = Mesh(id=9, user="alice", source="x.png", job_id="j", name=name)
    assert download_name(mesh, Path("mesh-9-attempt-1.ply")) == expected
