"""Readers of scientific images into a (z, y, x) array and its :class:`~.geometry.Frame` (spacing, origin,
direction), one well-kept library per family: SimpleITK for NIfTI, NRRD, MetaImage and DICOM series, tifffile
for TIFF stacks (ImageJ and OME spacing), Pillow for 2D images and folders of slices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .geometry import Frame

ITK_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm")
TIFF_SUFFIXES = (".tif", ".tiff")
PIL_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".pgm", ".ppm")
UNIT_MM = {"mm": 1.0, "millimeter": 1.0, "um": 1e-3, "µm": 1e-3, "micron": 1e-3, "\\u00B5m": 1e-3, "nm": 1e-6}


@dataclass
class Image:
    """``data`` (z, y, x); ``frame`` places it in space; ``physical`` is False when the file gives no spacing
    (then the spacing is 1 voxel)."""

    data: np.ndarray
    frame: Frame
    physical: bool

    @property
    def shape(self) -> tuple[int, int, int]:
        z, y, x = self.data.shape
        return z, y, x


def suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def expand(images: str | Path | Sequence[str | Path]) -> list[Path]:
    """The files to read: folders become their slices (or their DICOM series), sorted by name."""
    given = [Path(images)] if isinstance(images, str | Path) else [Path(p) for p in images]
    paths: list[Path] = []
    for path in given:
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            dicom = [p for p in files if suffix(p) == ".dcm" or _is_dicom(p)]
            paths.extend(dicom or [p for p in files if suffix(p) in PIL_SUFFIXES + TIFF_SUFFIXES])
        elif not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        else:
            paths.append(path)
    if not paths:
        raise ValueError(f"no image in {', '.join(map(str, given)) or 'the arguments'}")
    return paths


def probe(paths: list[Path]) -> tuple[int, int, int]:
    """(slices, height, width) from the files' headers, without decoding the pixels."""
    kind = _family(paths)
    if kind == "itk":
        import SimpleITK as sitk

        reader = sitk.ImageFileReader()
        reader.SetFileName(str(paths[0]))
        reader.ReadImageInformation()
        size = list(reader.GetSize()) + [1, 1]
        slices = len(paths) if len(paths) > 1 else size[2]
        return slices, size[1], size[0]
    if kind == "tiff" and len(paths) == 1:
        import tifffile

        with tifffile.TiffFile(paths[0]) as tif:
            shape = tif.series[0].shape
        if len(shape) > 3:
            shape = shape[-3:]
        return (1, *shape) if len(shape) == 2 else tuple(shape)
    from PIL import Image as PILImage

    slices, sizes = 0, set()
    for path in paths:
        with PILImage.open(path) as image:
            slices += getattr(image, "n_frames", 1)
            sizes.add((image.height, image.width))
    if len(sizes) != 1:
        raise ValueError(f"the images differ in size: {sorted(sizes)}")
    height, width = sizes.pop()
    return slices, height, width


def read_image(paths: list[Path]) -> Image:
    """The image in ``paths`` (one file, a DICOM series, or slices), grey levels as float32 unless integer
    labels; colour becomes luminance."""
    kind = _family(paths)
    if kind == "itk":
        return _read_itk(paths)
    if kind == "tiff" and len(paths) == 1:
        return _read_tiff(paths[0])
    return _read_slices(paths)


def _family(paths: list[Path]) -> str:
    first = suffix(paths[0])
    if first in ITK_SUFFIXES or _is_dicom(paths[0]):
        return "itk"
    return "tiff" if first in TIFF_SUFFIXES else "pil"


def _is_dicom(path: Path) -> bool:
    """DICOM files often have no suffix: they say 'DICM' after a 128-byte preamble."""
    try:
        with path.open("rb") as f:
            f.seek(128)
            return f.read(4) == b"DICM"
    except OSError:
        return False


def _read_itk(paths: list[Path]) -> Image:
    import SimpleITK as sitk

    if len(paths) > 1 or _is_dicom(paths[0]):
        reader = sitk.ImageSeriesReader()
        names = [str(p) for p in paths]
        if len(paths) == 1:  # one file of a series: read the whole series in its folder
            ids = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(paths[0].parent))
            names = list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(paths[0].parent), ids[0])) if ids else names
        else:
            names = list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(paths[0].parent))) or names
        reader.SetFileNames(names)
        image = reader.Execute()
    else:
        image = sitk.ReadImage(str(paths[0]))
    if image.GetNumberOfComponentsPerPixel() > 1:
        image = sitk.VectorMagnitude(image)
    if image.GetDimension() == 2:
        image = sitk.JoinSeries(image)
    elif image.GetDimension() > 3:
        image = image[:, :, :, 0]
    data = sitk.GetArrayFromImage(image)
    sx, sy, sz = image.GetSpacing()
    frame = Frame((sz, sy, sx), tuple(image.GetOrigin()), tuple(image.GetDirection()))
    return Image(_pixels(data), frame, physical=True)


def _read_tiff(path: Path) -> Image:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        data = tif.series[0].asarray()
        spacing, physical = _tiff_spacing(tif)
    if data.ndim == 3 and data.shape[-1] in (3, 4) and data.shape[0] > 4:
        data = _luminance(data)
    while data.ndim > 3:
        data = data[0]
    if data.ndim == 2:
        data = data[None]
    return Image(_pixels(data), Frame(spacing), physical)


def _tiff_spacing(tif: object) -> tuple[tuple[float, float, float], bool]:
    """(z, y, x) spacing in millimetres from OME or ImageJ metadata (or the resolution tags), and whether any was
    given."""
    ome = getattr(tif, "ome_metadata", None)
    if ome:
        import re

        def size(axis: str) -> float | None:
            found = re.search(rf'PhysicalSize{axis}="([0-9.eE+-]+)"', ome)
            unit = re.search(rf'PhysicalSize{axis}Unit="([^"]+)"', ome)
            scale = UNIT_MM.get(unit.group(1) if unit else "µm", 1e-3)
            return float(found.group(1)) * scale if found else None

        sizes = [size(axis) for axis in "ZYX"]
        if any(sizes):
            return tuple(s or 1.0 for s in sizes), True  # type: ignore[return-value]
    page = tif.pages[0]  # type: ignore[attr-defined]
    ij = getattr(tif, "imagej_metadata", None) or {}
    scale = UNIT_MM.get(str(ij.get("unit", "mm")), 1.0)
    x_res = page.tags.get("XResolution")
    y_res = page.tags.get("YResolution")
    if x_res is None or not ij:
        return (1.0, 1.0, 1.0), False
    x = x_res.value[1] / x_res.value[0] * scale
    y = (y_res.value[1] / y_res.value[0] * scale) if y_res else x
    z = float(ij.get("spacing", 1.0)) * scale
    return (z, y, x), True


def _read_slices(paths: list[Path]) -> Image:
    from PIL import Image as PILImage
    from PIL import ImageSequence

    planes: list[np.ndarray] = []
    for path in paths:
        with PILImage.open(path) as image:
            for frame in ImageSequence.Iterator(image):
                mode = frame.mode
                keep = mode in ("L", "I", "I;16", "P") or mode.startswith("I;")
                planes.append(np.asarray(frame if keep and mode != "P" else frame.convert("F")))
    data = np.stack(planes)
    return Image(_pixels(data), Frame((1.0, 1.0, 1.0)), physical=False)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _pixels(data: np.ndarray) -> np.ndarray:
    """Integer images stay integer (they may be label maps); everything else becomes float32."""
    if data.dtype.kind in "iu":
        return np.ascontiguousarray(data)
    return np.ascontiguousarray(data, dtype=np.float32)
