"""Tetrahedral meshes of each label region: labelled, none inverted, dihedral angles above a floor."""

from __future__ import annotations

from pathlib import Path

import meshio
import numpy as np
import pytest
from volumes import two_labels, write_itk

from meshprogress_nb.worker import generate_mesh
from meshprogress_nb.worker.geometry import Geometry
from meshprogress_nb.worker.quality import min_dihedral_angles, tetra_volumes

MIN_DIHEDRAL = 3.0  # degrees: fTetWild (stop_quality 10) stays well above it on these inputs (~8 measured)


@pytest.mark.slow
def test_two_labels_become_two_labelled_tetrahedral_regions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = write_itk(two_labels(), tmp_path / "labels.nii.gz", spacing=(1.0, 1.0, 1.0))
    result = generate_mesh(source, tmp_path / "labels.vtu", kind="tetrahedra", target_faces=600)
    mesh = meshio.read(result.path)
    tets = mesh.cells_dict["tetra"]
    labels = mesh.cell_data_dict["label"]["tetra"]
    assert sorted(np.unique(labels)) == [3, 7]
    geometry = Geometry(mesh.points, tets, labels)
    assert (tetra_volumes(geometry) > 0).all()  # none inverted
    assert min_dihedral_angles(geometry).min() > MIN_DIHEDRAL
    quality = result.quality
    assert quality["kind"] == "tetrahedra" and quality["inverted"] == 0 and quality["watertight"]
    assert quality["min_dihedral_deg"] > MIN_DIHEDRAL
    assert quality["volume"] == pytest.approx(16**3 + 16 * 16 * 18, rel=0.1)
    assert (tmp_path / "labels.preview.ply").is_file()
    assert not (tmp_path / "__tracked_surface.stl").exists()  # fTetWild's scratch file stays out of the way


def test_tetrahedra_need_a_volume_format(tmp_path: Path) -> None:
    source = write_itk(two_labels(), tmp_path / "labels.nrrd")
    with pytest.raises(ValueError, match="vtu"):
        generate_mesh(source, tmp_path / "labels.stl", kind="tetrahedra")
    with pytest.raises(ValueError, match="kind"):
        generate_mesh(source, tmp_path / "labels.vtu", kind="hexahedra")


@pytest.mark.slow
def test_a_finer_edge_length_gives_more_and_smaller_tetrahedra(tmp_path: Path) -> None:
    source = write_itk(two_labels(), tmp_path / "labels.nii.gz", spacing=(1.0, 1.0, 1.0))
    coarse = generate_mesh(source, tmp_path / "coarse.vtu", kind="tetrahedra", target_faces=600, edge_length=0.2)
    fine = generate_mesh(source, tmp_path / "fine.vtu", kind="tetrahedra", target_faces=600, edge_length=0.06)
    assert fine.quality["cells"] > 2 * coarse.quality["cells"], (coarse.quality, fine.quality)
    assert fine.quality["volume"] == pytest.approx(coarse.quality["volume"], rel=0.1)


@pytest.mark.parametrize("edge_length", [0.001, 0.5, "0.05", True])
def test_edge_length_is_bounded(tmp_path: Path, edge_length: object) -> None:
    source = write_itk(two_labels(), tmp_path / "labels.nrrd")
    with pytest.raises(ValueError, match="edge_length"):
        generate_mesh(source, tmp_path / "labels.vtu", kind="tetrahedra", edge_length=edge_length)  # type: ignore[arg-type]
