"""Label maps give one closed surface per label; grey-level images one per threshold; decimation keeps them closed."""

from __future__ import annotations

from pathlib import Path

import meshio
import numpy as np
import pytest
import trimesh
from volumes import sphere_labels, two_labels, write_itk

from meshprogress_nb.worker import generate_mesh, surfaces
from meshprogress_nb.worker.geometry import Frame, Geometry, is_closed, isosurface
from meshprogress_nb.worker.surfaces import (
    decimate,
    find_labels,
    label_surfaces,
    signed_volume,
    smooth,
    surface_faces,
)


def closed_regions(path: Path) -> dict[int, trimesh.Trimesh]:
    mesh = meshio.read(path)
    labels = mesh.cell_data["label"][0]
    regions = {}
    for label in np.unique(labels):
        region = trimesh.Trimesh(mesh.points, mesh.cells[0].data[labels == label])
        assert region.is_watertight and region.is_winding_consistent and region.volume > 0, label
        regions[int(label)] = region
    return regions


def test_two_labels_give_two_closed_regions_with_their_ids(tmp_path: Path) -> None:
    source = write_itk(two_labels(), tmp_path / "labels.nrrd", spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0))
    result = generate_mesh(source, tmp_path / "labels.vtu", target_faces=10**6)
    regions = closed_regions(result.path)
    assert sorted(regions) == [3, 7] and result.quality["regions"] == 2
    assert regions[3].bounds[1][0] < regions[7].bounds[0][0]  # separate, in x order
    assert regions[3].volume == pytest.approx(16**3, rel=0.1)


def test_labels_can_be_chosen(tmp_path: Path) -> None:
    source = write_itk(two_labels(), tmp_path / "labels.nii.gz")
    result = generate_mesh(source, tmp_path / "seven.vtu", labels=[7], target_faces=10**6)
    assert sorted(closed_regions(result.path)) == [7]
    with pytest.raises(ValueError, match="label 5"):
        generate_mesh(source, tmp_path / "five.vtu", labels=[5])


def test_decimated_labels_stay_closed_and_labelled(tmp_path: Path) -> None:
    source = write_itk(two_labels(), tmp_path / "labels.mha")
    result = generate_mesh(source, tmp_path / "small.ply", target_faces=800)
    assert result.faces <= 800 and result.quality["simplification"]["method"] == "quadric"
    assert result.quality["watertight"]
    ply = meshio.read(result.path)  # PLY: the label is on the vertices (each label's surface has its own)
    labels = ply.point_data["label"]
    assert sorted(np.unique(labels)) == [3, 7]
    corners = labels[ply.cells[0].data]
    assert (corners == corners[:, :1]).all()


def test_grey_levels_take_otsu_or_given_thresholds(tmp_path: Path) -> None:
    grey = sphere_labels().astype(np.float32) * 0.5 + sphere_labels(radius=6.0) * 0.5  # two nested shells
    source = write_itk(grey, tmp_path / "grey.nrrd")
    one = generate_mesh(source, tmp_path / "otsu.vtu", target_faces=10**6)
    assert one.quality["regions"] == 1
    two = generate_mesh(source, tmp_path / "two.vtu", levels=[0.25, 0.75], target_faces=10**6)
    regions = closed_regions(two.path)
    assert sorted(regions) == [1, 2] and regions[1].volume > 2 * regions[2].volume


def test_integer_images_with_many_values_are_grey_levels() -> None:
    assert find_labels(two_labels()) == [3, 7]
    assert find_labels(np.arange(1000, dtype=np.int16).reshape(10, 10, 10)) is None
    assert find_labels(two_labels().astype(np.float32)) is None


def test_decimate_returns_closed_outward_regions() -> None:
    surface = label_surfaces(two_labels(), Frame((1.0, 1.0, 1.0)), [3, 7], (1.0, 1.0, 1.0), lambda _: None)
    small = decimate(surface, 500)
    assert small is not None and len(small.cells) <= 500 and is_closed(small)
    assert signed_volume(small) == pytest.approx(signed_volume(surface), rel=0.1)


@pytest.mark.parametrize("shape", [(64, 64, 64), (24, 96, 128)])
def test_the_faces_marching_cubes_will_make_are_counted_before_it_runs(shape: tuple[int, int, int]) -> None:
    """The plan's estimate of marching cubes' time rests on it; the surface runs off the volume's edge, where the
    padding closes it, and a smooth noise gives it many components."""
    from scipy.ndimage import gaussian_filter

    noise = gaussian_filter(np.random.default_rng(3).random(shape, np.float32), 2)
    level = float(np.median(noise))
    made = len(isosurface(noise, level, Frame((1.0, 1.0, 1.0))).cells)
    assert surface_faces(noise, level) == pytest.approx(made, rel=0.05)


def test_a_second_decimation_pass_is_announced_before_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    passes: list[float] = []

    def first_fails(surface: Geometry, target: int, aggressiveness: float) -> Geometry | None:
        passes.append(aggressiveness)
        return None if len(passes) == 1 else surface

    monkeypatch.setattr(surfaces, "_decimate", first_fails)
    heard: list[tuple[float, list[float]]] = []
    cube = Geometry(np.zeros((3, 3)), np.zeros((1, 3), np.int32))
    assert decimate(cube, 10, lambda relative: heard.append((relative, list(passes)))) is cube
    assert heard == [(surfaces.PASSES[1][1], [surfaces.PASSES[0][0]])]  # after the first pass, before the second


def test_no_smoothing_makes_no_copy_of_a_float_volume() -> None:
    """A 256^3 copy is 64 MB of fresh pages, whose faults took 0.1-0.25 s of a 1 s job on the loaded machine."""
    volume = np.random.default_rng(5).random((8, 8, 8), np.float32)
    reported: list[float] = []
    assert smooth(volume, (0.0, 0.0, 0.0), reported.append) is volume and reported == [1.0]
    integers = (volume * 100).astype(np.int16)
    converted = smooth(integers, (0.0, 0.0, 0.0), reported.append)
    assert converted.dtype == np.float32 and np.array_equal(converted, integers)
    smoothed = smooth(volume, (1.0, 1.0, 1.0), reported.append)
    assert smoothed is not volume and smoothed.std() < volume.std()
