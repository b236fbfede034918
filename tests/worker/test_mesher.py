"""The mesher writes valid, closed meshes that a mesh reader loads, and reports progress that only grows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from meshprogress_nb.demo import SAMPLES
from meshprogress_nb.worker.mesher import STAGES, generate_mesh

SAMPLE = SAMPLES / "terrain.png"


class Recorder:
    """Records overall progress as the real reporter would compute it from the plan."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.weights: dict[str, float] = {}

    def plan(self, weights: dict[str, float]) -> None:
        total = sum(weights.values())
        self.weights = {k: v / total for k, v in weights.items()}

    def stage(self, name: str, weight: float | None = None):  # noqa: ANN201
        from contextlib import contextmanager

        names = list(self.weights)
        start = 100 * sum(self.weights[n] for n in names[: names.index(name)])
        share = 100 * self.weights[name]
        recorder = self

        class Stage:
            def update(self, fraction: float, message: str | None = None) -> None:
                recorder.values.append(start + share * fraction)

        @contextmanager
        def context():  # noqa: ANN202
            yield Stage()

        return context()


@pytest.mark.parametrize("suffix", [".ply", ".stl", ".obj"])
def test_height_field_is_a_closed_solid_in_every_format(tmp_path: Path, suffix: str) -> None:
    result = generate_mesh(SAMPLE, tmp_path / f"terrain{suffix}", target_faces=20_000)
    mesh = trimesh.load(result.path, force="mesh")
    assert len(mesh.faces) == result.faces <= 20_000
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0


def test_full_resolution_face_count_is_exact(tmp_path: Path) -> None:
    image = (np.random.default_rng(1).random((40, 60)) * 255).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / "small.png")
    result = generate_mesh(tmp_path / "small.png", tmp_path / "small.ply", target_faces=10**6)
    ring = 2 * (60 - 1) + 2 * (40 - 1)
    assert result.faces == 2 * 39 * 59 + 2 * ring + ring  # top, walls, bottom fan
    assert len(trimesh.load(result.path).faces) == result.faces


def test_a_stack_of_slices_becomes_a_closed_isosurface(tmp_path: Path) -> None:
    z, y, x = np.mgrid[0:16, 0:40, 0:40]
    ball = ((z - 8) ** 2 / 40 + (y - 20) ** 2 / 200 + (x - 20) ** 2 / 200) < 1
    paths = []
    for index, plane in enumerate(ball):
        paths.append(tmp_path / f"slice{index:02d}.png")
        Image.fromarray((plane * 255).astype(np.uint8)).save(paths[-1])
    result = generate_mesh(paths, tmp_path / "ball.ply", smooth_iterations=1, target_faces=10**6)
    mesh = trimesh.load(result.path)
    assert result.faces > 500 and mesh.is_watertight and mesh.volume > 0
    simplified = generate_mesh(paths, tmp_path / "ball-small.ply", smooth_iterations=1, target_faces=400)
    assert simplified.faces <= 400 and len(trimesh.load(simplified.path).faces) == simplified.faces


def test_progress_grows_through_every_stage_to_100(tmp_path: Path) -> None:
    recorder = Recorder()
    generate_mesh(SAMPLE, tmp_path / "t.ply", recorder, target_faces=50_000)  # type: ignore[arg-type]
    assert recorder.values == sorted(recorder.values)
    assert recorder.values[-1] == pytest.approx(100) and len(recorder.values) > 20
    assert set(recorder.weights) == set(STAGES)


def test_bad_inputs_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        generate_mesh(tmp_path / "missing.png", tmp_path / "x.ply")
    with pytest.raises(ValueError, match="format"):
        generate_mesh(SAMPLE, tmp_path / "x.xyz")
    (tmp_path / "a.png").write_bytes(b"not an image")
    with pytest.raises(Exception, match="identify"):
        generate_mesh(tmp_path / "a.png", tmp_path / "x.ply")
