"""Real files of every format the mesher reads, written with the libraries that read them (SimpleITK, tifffile,
Pillow), holding spheres at known places in millimetres."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SPACING = (2.0, 0.7, 0.5)  # (z, y, x) millimetres: anisotropic on purpose
ORIGIN = (5.0, -3.0, 7.0)  # (x, y, z) millimetres
RADIUS = 10.0


def sphere_labels(shape: tuple[int, int, int] = (16, 40, 56), spacing=SPACING, radius: float = RADIUS) -> np.ndarray:
    """A uint8 label map: label 1 a sphere of ``radius`` mm centred in the volume."""
    centre = [(n - 1) / 2 * s for n, s in zip(shape, spacing, strict=True)]
    z, y, x = (np.arange(n) * s - c for n, s, c in zip(shape, spacing, centre, strict=True))
    r = np.sqrt(z[:, None, None] ** 2 + y[None, :, None] ** 2 + x[None, None, :] ** 2)
    return (r < radius).astype(np.uint8)


def two_labels(shape: tuple[int, int, int] = (24, 24, 48)) -> np.ndarray:
    """Two separate blocks with labels 3 and 7."""
    data = np.zeros(shape, np.uint8)
    data[4:20, 4:20, 4:20] = 3
    data[4:20, 4:20, 26:44] = 7
    return data


def itk_image(data: np.ndarray, spacing=SPACING, origin=ORIGIN):  # noqa: ANN001, ANN201
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(data)
    image.SetSpacing(spacing[::-1])
    image.SetOrigin(origin)
    return image


def write_itk(data: np.ndarray, path: Path, spacing=SPACING, origin=ORIGIN) -> Path:
    import SimpleITK as sitk

    sitk.WriteImage(itk_image(data, spacing, origin), str(path))
    return path


def write_dicom_series(data: np.ndarray, folder: Path, spacing=SPACING, origin=ORIGIN) -> Path:
    """One CT-like DICOM file per slice, positions and spacing in the tags that readers use."""
    import SimpleITK as sitk

    folder.mkdir(parents=True, exist_ok=True)
    image = itk_image(data.astype(np.int16), spacing, origin)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    series = "1.2.826.0.1.3680043.2.1125.1.42"
    for z in range(image.GetDepth()):
        plane = image[:, :, z]
        position = image.TransformIndexToPhysicalPoint((0, 0, z))
        for tag, value in (
            ("0008|0060", "CT"),
            ("0020|000d", series + ".0"),
            ("0020|000e", series),
            ("0008|0018", f"{series}.{z + 1}"),
            ("0020|0013", str(z + 1)),
            ("0020|0032", "\\".join(f"{v:.6f}" for v in position)),
            ("0020|0037", "1\\0\\0\\0\\1\\0"),
            ("0018|0050", f"{spacing[0]:.6f}"),
        ):
            plane.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"slice{z:03d}.dcm"))
        writer.Execute(plane)
    return folder


def write_imagej_tiff(data: np.ndarray, path: Path, spacing=SPACING) -> Path:
    import tifffile

    z, y, x = spacing
    tifffile.imwrite(path, data, imagej=True, resolution=(1 / x, 1 / y), metadata={"spacing": z, "unit": "mm"})
    return path


def write_ome_tiff(data: np.ndarray, path: Path, spacing=SPACING) -> Path:
    import tifffile

    z, y, x = (s * 1000 for s in spacing)  # micrometres, OME's default unit
    tifffile.imwrite(
        path, data, ome=True, metadata={"axes": "ZYX", "PhysicalSizeX": x, "PhysicalSizeY": y, "PhysicalSizeZ": z}
    )
    return path
