"""Isotropic remeshing (remesh=True, the [remesh] extra) gives near-equilateral triangles, about as many, closed."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from meshprogress_nb.worker import generate_mesh
from meshprogress_nb.worker.geometry import Frame, is_closed, isosurface
from meshprogress_nb.worker.quality import min_angles
from meshprogress_nb.worker.relief import height_field_solid
from meshprogress_nb.worker.surfaces import signed_volume

# Degrees. Measured 20 on a decimated relief and 30 on a sphere; quadric decimation alone gave 0.01 to 5.
FLOOR = 15.0


def ball(side: int = 48) -> np.ndarray:
    z, y, x = np.mgrid[:side, :side, :side]
    return (side * 0.3 - np.sqrt((x - side / 2) ** 2 + (y - side / 2) ** 2 + (z - side / 2) ** 2)).astype(np.float32)


def test_a_ball_and_a_relief_come_out_closed_and_near_equilateral() -> None:
    pytest.importorskip("pymeshlab")
    from meshprogress_nb.worker.remesh import remesh

    y, x = np.mgrid[0:64, 0:64] / 63
    relief = height_field_solid(0.1 + 0.1 * np.sin(5 * x) * np.cos(4 * y) + 0.1, (1.0, 1.0))
    for surface, faces in ((isosurface(ball(), 0.0, Frame((1.0, 1.0, 1.0))), 3000), (relief, 4000)):
        result = remesh(surface, faces)
        assert is_closed(result) and 0.7 * faces <= len(result.cells) <= 1.1 * faces
        assert signed_volume(result) == pytest.approx(signed_volume(surface), rel=0.02)
        assert min_angles(result).min() >= FLOOR


def test_remesh_true_in_a_job_reports_its_angles(tmp_path: Path) -> None:
    pytest.importorskip("pymeshlab")
    y, x = np.mgrid[0:80, 0:100]
    Image.fromarray((127 + 120 * np.sin(x / 9) * np.cos(y / 11)).astype(np.uint8)).save(tmp_path / "wave.png")
    result = generate_mesh(tmp_path / "wave.png", tmp_path / "wave.vtu", target_faces=3000, remesh=True)
    assert result.quality["watertight"] and result.quality["min_angle_deg"] >= FLOOR
    assert 0.7 * 3000 <= result.faces <= 1.1 * 3000


def test_without_the_extra_the_job_fails_at_once_saying_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pymeshlab", None)  # import pymeshlab now raises ImportError
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "flat.png")
    with pytest.raises(ImportError, match=r"\[remesh\] extra"):
        generate_mesh(tmp_path / "flat.png", tmp_path / "flat.ply", remesh=True)
    assert not (tmp_path / "flat.ply").exists()


def test_remesh_must_be_a_boolean(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "flat.png")
    with pytest.raises(ValueError, match="remesh must be true or false"):
        generate_mesh(tmp_path / "flat.png", tmp_path / "x.ply", remesh="yes")  # type: ignore[arg-type]
