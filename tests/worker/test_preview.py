"""The preview beside every result: binary little-endian PLY, triangles only, capped, labelled per vertex."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh
from volumes import two_labels

from meshprogress_nb.worker.geometry import Frame, Geometry
from meshprogress_nb.worker.preview import preview_path, write_preview
from meshprogress_nb.worker.surfaces import label_surfaces


def read_header(path: Path) -> list[str]:
    return path.read_bytes().split(b"end_header\n")[0].decode("ascii").splitlines()


def test_a_labelled_surface_gives_a_labelled_binary_preview(tmp_path: Path) -> None:
    surface = label_surfaces(two_labels(), Frame((1.0, 1.0, 1.0)), [3, 7], (1.0, 1.0, 1.0), lambda _: None)
    path = write_preview(surface, tmp_path / "mesh.vtu")
    assert path == tmp_path / "mesh.preview.ply" == preview_path(tmp_path / "mesh.vtu")
    header = read_header(path)
    assert header[1] == "format binary_little_endian 1.0" and "property int label" in header
    loaded = trimesh.load(path, process=False)
    assert len(loaded.faces) == len(surface.cells)
    labels = loaded.metadata["_ply_raw"]["vertex"]["data"]["label"]
    assert sorted(np.unique(labels)) == [3, 7]


def test_a_large_surface_is_decimated_to_the_cap(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import meshprogress_nb.worker.preview as preview

    monkeypatch.setattr(preview, "MAX_FACES", 500)
    surface = label_surfaces(two_labels(), Frame((1.0, 1.0, 1.0)), [3, 7], (1.0, 1.0, 1.0), lambda _: None)
    loaded = trimesh.load(write_preview(surface, tmp_path / "big.ply"), process=False)
    assert 0 < len(loaded.faces) <= 500


def test_tetrahedra_preview_their_boundary(tmp_path: Path) -> None:
    cube = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
    tets = Geometry(cube, np.array([[0, 1, 2, 3]], np.int32), np.array([4], np.int32))
    loaded = trimesh.load(write_preview(tets, tmp_path / "t.vtu"), process=False)
    assert len(loaded.faces) == 4 and loaded.is_watertight and loaded.volume > 0
    assert "property int label" in read_header(tmp_path / "t.preview.ply")
    unlabelled = Geometry(cube, np.array([[0, 1, 2, 3]], np.int32))
    assert "property int label" not in read_header(write_preview(unlabelled, tmp_path / "u.vtu"))
