"""Every format the mesher reads, from real files: the voxels, and where they are in millimetres."""

from __future__ import annotations

from pathlib import Path

import meshio
import numpy as np
import pytest
from PIL import Image as PILImage
from volumes import (
    ORIGIN,
    RADIUS,
    SPACING,
    sphere_labels,
    write_dicom_series,
    write_imagej_tiff,
    write_itk,
    write_ome_tiff,
)

from meshprogress_nb.worker import generate_mesh
from meshprogress_nb.worker.readers import expand, probe, read_image

WRITERS = {
    "nifti": lambda data, tmp: write_itk(data, tmp / "sphere.nii.gz"),
    "nifti-plain": lambda data, tmp: write_itk(data, tmp / "sphere.nii"),
    "nrrd": lambda data, tmp: write_itk(data, tmp / "sphere.nrrd"),
    "metaimage": lambda data, tmp: write_itk(data, tmp / "sphere.mha"),
    "metaimage-header": lambda data, tmp: write_itk(data, tmp / "sphere.mhd"),
    "dicom": lambda data, tmp: write_dicom_series(data, tmp / "dicom"),
    "imagej-tiff": lambda data, tmp: write_imagej_tiff(data, tmp / "sphere.tif"),
    "ome-tiff": lambda data, tmp: write_ome_tiff(data, tmp / "sphere.ome.tif"),
}
HAS_ORIGIN = {"nifti", "nifti-plain", "nrrd", "metaimage", "metaimage-header", "dicom"}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_each_format_reads_its_voxels_and_spacing(tmp_path: Path, fmt: str) -> None:
    data = sphere_labels()
    paths = expand(WRITERS[fmt](data, tmp_path))
    assert probe(paths) == data.shape
    image = read_image(paths)
    assert image.physical and np.array_equal(image.data, data)
    assert image.frame.spacing == pytest.approx(SPACING, rel=1e-4)
    if fmt in HAS_ORIGIN:
        assert image.frame.origin == pytest.approx(ORIGIN, abs=1e-4)


@pytest.mark.parametrize("fmt", ["nifti", "dicom", "imagej-tiff", "ome-tiff"])
def test_a_sphere_of_10_mm_comes_out_10_mm_at_anisotropic_spacing(tmp_path: Path, fmt: str) -> None:
    data = sphere_labels()
    result = generate_mesh(WRITERS[fmt](data, tmp_path), tmp_path / "sphere.vtu", target_faces=10**6)
    mesh = meshio.read(result.path)
    centre = np.array([(n - 1) / 2 * s for n, s in zip(data.shape[::-1], SPACING[::-1], strict=True)])
    if fmt in HAS_ORIGIN:
        centre += ORIGIN
    radius = np.linalg.norm(mesh.points - centre, axis=1)
    assert abs(radius.mean() - RADIUS) < min(SPACING) / 2  # half the finest voxel, on average
    assert np.abs(radius - RADIUS).max() < max(SPACING) / 2  # half a voxel along the coarsest axis, everywhere
    assert result.quality["units"] == "mm" and result.quality["watertight"]
    assert result.quality["volume"] == pytest.approx(4 / 3 * np.pi * RADIUS**3, rel=0.03)


def test_direction_cosines_rotate_the_surface(tmp_path: Path) -> None:
    import SimpleITK as sitk
    from volumes import itk_image

    image = itk_image(sphere_labels(), origin=(0.0, 0.0, 0.0))
    image.SetDirection((0, -1, 0, 1, 0, 0, 0, 0, 1))  # i runs along +y, j along -x
    sitk.WriteImage(image, str(tmp_path / "rotated.nrrd"))
    result = generate_mesh(tmp_path / "rotated.nrrd", tmp_path / "rotated.ply", target_faces=10**6)
    low, high = np.array(result.quality["bounding_box"])
    assert high[0] <= 0.01 and low[1] >= -0.01  # x went negative, y positive
    assert result.quality["volume"] > 0  # faces still point outwards


def test_2d_images_and_folders_of_slices_have_voxel_units(tmp_path: Path) -> None:
    data = sphere_labels() * 200
    folder = tmp_path / "slices"
    folder.mkdir()
    for index, plane in enumerate(data):
        PILImage.fromarray(plane).save(folder / f"s{index:02d}.png")
    image = read_image(expand(folder))
    assert not image.physical and image.frame.spacing == (1.0, 1.0, 1.0)
    assert np.array_equal(image.data, data)
    flat = read_image(expand(folder / "s08.png"))
    assert flat.shape == (1, *data.shape[1:])


def test_a_missing_file_and_an_empty_folder_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        expand(tmp_path / "missing.nii.gz")
    with pytest.raises(ValueError, match="no image"):
        expand(tmp_path)
