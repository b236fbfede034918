"""Every output format round-trips through meshio (and surfaces through trimesh), labels included where the
format holds them."""

from __future__ import annotations

from pathlib import Path

import meshio
import numpy as np
import pytest
import trimesh

from meshprogress_nb.worker.geometry import Frame
from meshprogress_nb.worker.output_formats import FORMATS
from meshprogress_nb.worker.surfaces import label_surfaces
from meshprogress_nb.worker.writers import write_mesh


@pytest.fixture(scope="module")
def surface():  # noqa: ANN201
    data = np.zeros((12, 12, 24), np.uint8)
    data[2:10, 2:10, 2:10] = 1
    data[2:10, 2:10, 13:22] = 2
    return label_surfaces(data, Frame((1.5, 1.0, 1.0)), [1, 2], (0.5, 0.5, 0.5), lambda _: None)


@pytest.mark.parametrize("fmt", FORMATS)
def test_surfaces_round_trip_through_meshio(tmp_path: Path, surface, fmt: str) -> None:  # noqa: ANN001
    path = write_mesh(surface, tmp_path / f"labels.{fmt}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name] + (["labels.h5"] if fmt == "xdmf" else []))
    mesh = meshio.read(path)
    triangles = np.concatenate([block.data for block in mesh.cells if block.type == "triangle"])
    assert len(triangles) == len(surface.cells)
    assert np.allclose(
        np.sort(mesh.points[triangles].reshape(-1, 3), axis=0),
        np.sort(surface.points[surface.cells].reshape(-1, 3), axis=0),
        atol=1e-4,
    )
    if fmt in ("vtu", "xdmf"):
        assert np.array_equal(mesh.cell_data["label"][0], surface.labels)
    if fmt == "msh":
        assert np.array_equal(mesh.cell_data["gmsh:physical"][0], surface.labels)
    if fmt == "ply":
        assert sorted(np.unique(mesh.point_data["label"])) == [1, 2]


@pytest.mark.parametrize("fmt", ["ply", "stl", "obj"])
def test_surfaces_load_in_trimesh_closed(tmp_path: Path, surface, fmt: str) -> None:  # noqa: ANN001
    loaded = trimesh.load(write_mesh(surface, tmp_path / f"labels.{fmt}"), force="mesh")
    for body in loaded.split(only_watertight=False):
        assert body.is_watertight and body.volume > 0
    assert loaded.volume == pytest.approx(trimesh.Trimesh(surface.points, surface.cells).volume, rel=1e-4)


def test_tetrahedra_are_refused_by_surface_formats(tmp_path: Path, surface) -> None:  # noqa: ANN001
    from meshprogress_nb.worker.geometry import Geometry

    tets = Geometry(np.eye(4, 3), np.array([[0, 1, 2, 3]], np.int32))
    with pytest.raises(ValueError, match="surfaces only"):
        write_mesh(tets, tmp_path / "t.stl")
    assert list(tmp_path.iterdir()) == []
