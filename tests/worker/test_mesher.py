"""The mesher writes valid, closed meshes that a mesh reader loads, in every format, and reports progress that only
grows, stage by stage, to 100."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import trimesh
from callback_recorder import Answer, RecordingHub
from PIL import Image
from volumes import write_itk

from meshprogress_nb.demo import SAMPLES
from meshprogress_nb.worker import JobCancelled, ProgressReporter, generate_mesh
from meshprogress_nb.worker.mesher import STAGES, StageSizes

SAMPLE = SAMPLES / "terrain.png"


class Recording(ProgressReporter):
    """The real reporter (posting to a recording hub) that also keeps every overall value it was given."""

    def __init__(self, hub: RecordingHub) -> None:
        super().__init__(hub.url, "job-1", "token", min_interval=0.02)
        self.values: list[float] = []
        self.messages: list[str | None] = []

    def update(self, progress: float, message: str | None = None) -> None:
        self.values.append(progress)
        self.messages.append(message)
        super().update(progress, message)


def ball_slices(tmp_path: Path, depth: int = 16, side: int = 40) -> list[Path]:
    z, y, x = np.mgrid[0:depth, 0:side, 0:side]
    c = side / 2
    ball = ((z - depth / 2) ** 2 / (depth * depth / 6.4) + ((y - c) ** 2 + (x - c) ** 2) / (c * c * 0.5)) < 1
    paths = []
    for index, plane in enumerate(ball):
        paths.append(tmp_path / f"slice{index:02d}.png")
        Image.fromarray((plane * 255).astype(np.uint8)).save(paths[-1])
    return paths


@pytest.mark.parametrize("suffix", [".ply", ".stl", ".obj"])
def test_height_field_is_a_closed_solid_in_every_format(tmp_path: Path, suffix: str) -> None:
    result = generate_mesh(SAMPLE, tmp_path / f"terrain{suffix}", target_faces=20_000)
    mesh = trimesh.load(result.path, force="mesh")
    assert result.mode == "heightfield"
    assert len(mesh.faces) == result.faces <= 20_000 and result.faces > 19_000  # close to the target, not far below
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0


def test_every_format_round_trips_the_same_mesh(tmp_path: Path) -> None:
    loaded = {}
    for suffix in (".ply", ".stl", ".obj"):
        result = generate_mesh(SAMPLES / "crater.png", tmp_path / f"crater{suffix}", target_faces=30_000)
        loaded[suffix] = trimesh.load(result.path, force="mesh")
    ply = loaded[".ply"]
    for suffix, mesh in loaded.items():
        assert len(mesh.faces) == len(ply.faces), suffix
        assert mesh.volume == pytest.approx(ply.volume, rel=1e-4), suffix
        assert np.allclose(mesh.bounds, ply.bounds, atol=1e-5), suffix
    assert len(loaded[".obj"].vertices) == len(ply.vertices)


def test_full_resolution_keeps_every_pixel(tmp_path: Path) -> None:
    image = (np.random.default_rng(1).random((40, 60)) * 255).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / "small.png")
    result = generate_mesh(tmp_path / "small.png", tmp_path / "small.ply", target_faces=10**6)
    mesh = trimesh.load(result.path, process=False)
    assert len(mesh.faces) == result.faces and mesh.is_watertight
    sloped = np.abs(mesh.face_normals[:, 2]) > 1e-9
    on_base = (mesh.vertices[mesh.faces][:, :, 2] == 0).all(axis=1)
    assert (sloped & ~on_base).sum() == 2 * 39 * 59  # the top is the image's grid, two triangles a pixel
    assert mesh.bounds[1][:2] == pytest.approx([1.0, 39 / 59])  # the longer side is 1


def test_the_relief_reads_like_the_image_from_above(tmp_path: Path) -> None:
    image = np.zeros((30, 50), dtype=np.uint8)
    image[:10, :10] = 255  # the top-left corner is bright
    Image.fromarray(image).save(tmp_path / "corner.png")
    result = generate_mesh(tmp_path / "corner.png", tmp_path / "corner.ply", smooth_iterations=0)
    mesh = trimesh.load(result.path)
    highest = mesh.vertices[mesh.vertices[:, 2] > mesh.vertices[:, 2].max() - 1e-6]
    assert highest[:, 0].max() < 0.25 and highest[:, 1].min() > 0.3  # x small, y large: top left seen from above


@pytest.mark.slow
def test_a_512_pixel_image_meets_its_face_target(tmp_path: Path) -> None:
    """Its speed is measured by bench/mesher.py against the field's pipelines, not by a timed test."""
    rng = np.random.default_rng(2)
    Image.fromarray((rng.random((512, 512)) * 255).astype(np.uint8)).save(tmp_path / "big.png")
    result = generate_mesh(tmp_path / "big.png", tmp_path / "big.stl", target_faces=200_000)
    assert 190_000 < result.faces <= 200_000


def test_a_stack_of_slices_becomes_a_closed_isosurface(tmp_path: Path) -> None:
    paths = ball_slices(tmp_path)
    result = generate_mesh(paths, tmp_path / "ball.ply", smooth_iterations=1, target_faces=10**6)
    mesh = trimesh.load(result.path)
    assert result.mode == "isosurface" and result.faces > 500
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    simplified = generate_mesh(paths, tmp_path / "ball-small.obj", smooth_iterations=1, target_faces=400)
    small = trimesh.load(simplified.path, force="mesh")
    assert 200 < simplified.faces <= 400 and len(small.faces) == simplified.faces
    assert small.is_watertight and small.volume == pytest.approx(mesh.volume, rel=0.2)


def test_volumes_come_from_a_folder_or_a_multipage_tiff(tmp_path: Path) -> None:
    folder = tmp_path / "slices"
    folder.mkdir()
    paths = ball_slices(folder)
    frames = [Image.open(p) for p in paths]
    frames[0].save(tmp_path / "ball.tif", save_all=True, append_images=frames[1:])
    from_folder = generate_mesh(folder, tmp_path / "a.stl")
    from_tiff = generate_mesh(tmp_path / "ball.tif", tmp_path / "b.stl")
    assert from_folder.mode == from_tiff.mode == "isosurface"
    assert from_folder.faces == from_tiff.faces
    assert trimesh.load(from_tiff.path).is_watertight


def test_progress_grows_through_every_stage_to_100(tmp_path: Path, recording_hub: RecordingHub) -> None:
    reporter = Recording(recording_hub)
    with reporter:
        generate_mesh(SAMPLE, tmp_path / "t.obj", reporter, target_faces=50_000)
    assert reporter.values == sorted(reporter.values)
    # At least the updates the mesher makes whatever the machine's speed (stage starts, marching-cubes blocks,
    # smoothing axes); the ticks of the library calls it times come on top, more of them on a slower machine.
    assert reporter.values[-1] == pytest.approx(100) and len(reporter.values) >= 30
    assert set(STAGES) <= set(reporter.messages)  # each stage announced itself
    assert sum(m == "triangulating" for m in reporter.messages) >= 10  # the mesh stage moves block by block
    posted = [b["progress"] for b in recording_hub.bodies()]
    assert posted == sorted(posted) and recording_hub.bodies()[-1]["status"] == "completed"


def test_stage_weights_follow_the_expected_work() -> None:
    small = StageSizes((1, 256, 256), "heightfield", 1024, 8, 200_000).estimate()
    big = StageSizes((1, 1024, 1024), "heightfield", 1024, 8, 200_000).estimate()
    assert list(small) == list(STAGES) and all(w >= 0 for w in small.values())
    assert small["simplify"] == 0 < big["simplify"]  # 256x256 fits in 200,000 faces; 1024x1024 does not
    assert big["mesh"] > 4 * small["mesh"]  # the top grows with the area (16x), the walls and base with the border (4x)
    volume = StageSizes((64, 256, 256), "isosurface", 1024, 8, 50_000)
    before = volume.estimate()
    assert before["preprocess"] > before["write"]
    volume.faces = 2_000_000  # known after meshing: the plan is made again
    assert volume.estimate()["simplify"] > 2 * before["simplify"]


def test_a_cancel_stops_the_work_within_one_step_without_leaving_files(
    tmp_path: Path, recording_hub: RecordingHub
) -> None:
    class Slow(Recording):
        """A job slow enough (3 ms a step) for the hub's answer to arrive while it runs."""

        def update(self, progress: float, message: str | None = None) -> None:
            time.sleep(0.003)
            super().update(progress, message)

    recording_hub.answer(Answer(), Answer())
    recording_hub.default = Answer(409, {"error": "Mesh is cancelled", "status": "cancelled"})
    reporter = Slow(recording_hub)
    with pytest.raises(JobCancelled), reporter:
        generate_mesh(SAMPLE, tmp_path / "t.obj", reporter, target_faces=50_000)
    assert reporter.values[-1] < 100
    assert list(tmp_path.iterdir()) == []  # neither the mesh nor a partial file
    assert all(b["status"] == "processing" for b in recording_hub.bodies())  # no failure reported over the cancel


def test_bad_inputs_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        generate_mesh(tmp_path / "missing.png", tmp_path / "x.ply")
    with pytest.raises(ValueError, match="format"):
        generate_mesh(SAMPLE, tmp_path / "x.xyz")
    (tmp_path / "a.png").write_bytes(b"not an image")
    with pytest.raises(Exception, match="identify"):
        generate_mesh(tmp_path / "a.png", tmp_path / "x.ply")
    for options, field in (
        ({"mode": "voxels"}, "mode"),
        ({"target_faces": "many"}, "target_faces"),
        ({"target_faces": 5}, "target_faces"),
        ({"smooth_iterations": -1}, "smooth_iterations"),
        ({"level": 2.0}, "level"),
    ):
        with pytest.raises(ValueError, match=field):
            generate_mesh(SAMPLE, tmp_path / "x.ply", **options)
    with pytest.raises(ValueError, match="one image"):
        generate_mesh([SAMPLE, SAMPLE], tmp_path / "x.ply", mode="heightfield")
    with pytest.raises(ValueError, match="2 slices"):
        generate_mesh(SAMPLE, tmp_path / "x.ply", mode="isosurface")


class Timed(ProgressReporter):
    """The real reporter that also keeps when each overall value was given, and with which message."""

    def __init__(self, hub: RecordingHub) -> None:
        super().__init__(hub.url, "job-1", "token", min_interval=0.02)
        self.log: list[tuple[float, float, str | None]] = []

    def update(self, progress: float, message: str | None = None) -> None:
        self.log.append((time.monotonic(), progress, message))
        super().update(progress, message)


def test_the_bar_moves_while_marching_cubes_runs(
    tmp_path: Path, recording_hub: RecordingHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scikit-image's marching cubes holds the GIL for its whole call; the bar must not stand still through it."""
    from scipy.ndimage import gaussian_filter

    from meshprogress_nb.worker import pacing

    monkeypatch.setattr(pacing, "TICK", 0.01)  # many ticks even where the call is short (a fast machine)
    noise = gaussian_filter(np.random.default_rng(0).random((80, 80, 80), np.float32), 2)  # a surface of ~400k faces
    source = write_itk((noise * 1000).astype(np.int16), tmp_path / "noise.nii.gz", spacing=(1.0, 1.0, 1.0))
    reporter = Timed(recording_hub)
    with reporter:
        generate_mesh(source, tmp_path / "noise.ply", reporter, smooth_iterations=0, target_faces=20_000)
    messages = [m for _, _, m in reporter.log]
    start, end = messages.index("mesh"), messages.index("simplify")
    during = reporter.log[start : end + 1]
    ticks = [p for _, p, m in during if m == "marching cubes"]
    assert len(ticks) >= 5 and ticks == sorted(ticks) and ticks[-1] > ticks[0]
    # No report stands still for most of the call (in-process, one gap spanned all of it).
    gaps = [b[0] - a[0] for a, b in zip(during, during[1:], strict=False)]
    assert max(gaps) < 0.5 * (during[-1][0] - during[0][0])


def test_the_plan_counts_the_surface_before_meshing_and_is_made_again_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marching cubes' time is planned from a count of the faces it will make, and simplify's from the faces it
    made; the decimation's estimate is then the one the stage is paced by."""
    from scipy.ndimage import gaussian_filter

    planned: list[int] = []
    estimate = StageSizes.estimate
    monkeypatch.setattr(StageSizes, "estimate", lambda self: (planned.append(self.faces), estimate(self))[1])
    noise = gaussian_filter(np.random.default_rng(4).random((48, 48, 48), np.float32), 2)
    source = write_itk((noise * 1000).astype(np.int16), tmp_path / "noise.nii.gz", spacing=(1.0, 1.0, 1.0))
    result = generate_mesh(source, tmp_path / "noise.ply", smooth_iterations=0, target_faces=5_000)
    made = result.quality["simplification"]["from_faces"]
    assert planned[:2] == [0, 0]  # before and after reading: the size is not known yet
    assert planned[2] == pytest.approx(made, rel=0.05) and planned[3:] == [made]
