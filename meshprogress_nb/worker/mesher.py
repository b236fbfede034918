"""Images to triangle meshes, in five stages whose reported progress follows the work done.

``heightfield``: one image becomes a closed solid whose top is the image's brightness (a relief over a flat base).
``isosurface``: a stack of images (several files, a directory of slices, or a multi-page TIFF) becomes a volume
whose surface at ``level`` is found by marching cubes, slab by slab.

Stages: ``load`` (decode, per slice), ``preprocess`` (grayscale, normalize to 0..1, fit to ``max_side``, Gaussian
smoothing pass by pass), ``mesh`` (row blocks of the height field, or slabs of marching cubes), ``simplify`` (the
field resampled on a coarser grid and meshed again, so the result stays closed, until it has at most
``target_faces`` faces), ``write`` (PLY, STL or OBJ by ``output``'s suffix, in chunks). The stages' weights are
estimated before any work from the images' sizes, the options and the format, so that progress is roughly
proportional to time and an ETA computed from it means something.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .format_names import mesh_format
from .formats import write_mesh
from .meshes import Mesh, height_field_faces, height_field_solid, isosurface, resample, smooth_step

STAGES = ("load", "preprocess", "mesh", "simplify", "write")
MODES = ("heightfield", "isosurface")
IMAGE_SUFFIXES = frozenset({".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".pgm", ".ppm"})
BASE = 0.05  # thickness of the height-field solid under the image's darkest point
MAX_TARGET_FACES = 50_000_000
MAX_SMOOTH_ITERATIONS = 1_000_000  # 20,000 passes over a 384x384 image take ~8 s: tests use this for slow jobs

# Seconds per unit of work of each step, measured on one core of a 2-core VM (numpy 2.4, scikit-image 0.26).
# Only their ratios matter: they turn sizes into stage weights. See estimate_stage_seconds().
COST = {
    "decode": 1.6e-8,  # per pixel
    "normalize": 4e-9,  # per sample
    "smooth": 2e-9,  # per sample, per pass along one axis
    "resample": 2.5e-8,  # per sample of the input
    "grid": 9e-8,  # per face of a height-field solid
    "cubes": 4e-8,  # per voxel scanned by marching cubes
    "surface": 4e-7,  # per face of an isosurface (marching cubes' output, then welding)
    "ply": 2.5e-8,  # per face written
    "stl": 1.6e-7,
    "obj": 5.5e-7,
}
SURFACE_DENSITY = 10.0  # isosurface faces per voxel^(2/3): a guess from typical volumes, before meshing
FLOOR = 1e-3  # seconds: every stage keeps a sliver of the bar, so each one's start is reported


@dataclass(frozen=True)
class MeshResult:
    """What :func:`generate_mesh` wrote."""

    path: Path
    vertices: int
    faces: int
    mode: str


class StageProgress(Protocol):
    def update(self, fraction: float, message: str | None = None) -> None: ...


class Reporter(Protocol):
    """What the mesher needs of a reporter: :class:`~.reporter.ProgressReporter` is one."""

    def plan(self, weights: dict[str, float]) -> None: ...

    def stage(self, name: str, weight: float | None = None) -> AbstractContextManager[StageProgress]: ...


class _Silent:
    def update(self, fraction: float, message: str | None = None) -> None:
        """Nobody watches."""


class _NoReporter:
    """Stands in for a reporter when the caller wants none."""

    def plan(self, weights: dict[str, float]) -> None:
        """Nothing to plan."""

    def stage(self, name: str, weight: float | None = None) -> AbstractContextManager[StageProgress]:
        return nullcontext(_Silent())


def generate_mesh(
    images: str | Path | Sequence[str | Path],
    output: str | Path,
    reporter: Reporter | None = None,
    *,
    mode: str | None = None,
    target_faces: int = 200_000,
    smooth_iterations: int = 8,
    height_scale: float = 0.25,
    level: float | None = None,
    max_side: int = 1024,
) -> MeshResult:
    """Mesh ``images`` into ``output`` (.ply, .stl or .obj), reporting each stage to ``reporter``.

    ``images``: one image (height field), or several, a directory of slices, or a multi-page TIFF (isosurface).
    ``mode``: ``"heightfield"`` or ``"isosurface"``; by default, isosurface when there is more than one slice.
    ``target_faces``: the most faces the result may have. ``smooth_iterations``: passes of the binomial filter
    along each axis, a Gaussian of sigma ``sqrt(n / 2)`` pixels. ``height_scale``: the relief's height, in units of
    the image's longer side. ``level``: the isosurface's level on the normalized 0..1 scale, by default Otsu's
    threshold. ``max_side``: larger inputs are resampled to at most this many samples along each axis first.

    The reporter gets a :meth:`plan` of the five stages, then one ``stage`` after the other; it may be a
    :class:`~.reporter.ProgressReporter`, whose ``JobCancelled`` then stops the work within one step.
    """
    paths = _image_paths(images)
    output = Path(output)
    fmt = mesh_format(output)
    _check_options(mode, target_faces, smooth_iterations, height_scale, level, max_side)
    shape = probe(paths)
    mode = mode or ("isosurface" if shape[0] > 1 else "heightfield")
    if mode == "heightfield" and shape[0] > 1:
        raise ValueError(f"a height field is made from one image, not {shape[0]} slices: use mode='isosurface'")
    if mode == "isosurface" and (shape[0] < 2 or min(shape) < 2):
        raise ValueError("an isosurface needs at least 2 slices of at least 2x2 pixels")
    rep = reporter or _NoReporter()
    rep.plan(estimate_stage_seconds(shape, mode, fmt, target_faces, smooth_iterations, max_side))

    with rep.stage("load") as st:
        volume = _load(paths, shape[0], st)
    with rep.stage("preprocess") as st:
        data = _preprocess(volume[0] if mode == "heightfield" else volume, smooth_iterations, max_side, st)
    if mode == "heightfield":
        data = np.flipud(data)  # image rows run down; the relief's y runs up, so it reads like the image from above
        extent = _extent(data.shape)
        with rep.stage("mesh") as st:
            mesh = height_field_solid(BASE + height_scale * data, extent, _relay(st, "triangulating"))
        with rep.stage("simplify") as st:
            mesh = _simplify_height_field(mesh, data, extent, height_scale, target_faces, st)
    else:
        level = _otsu(data) if level is None else level
        spacing = _volume_spacing(data.shape, data.shape)
        with rep.stage("mesh") as st:
            mesh = isosurface(data, level, spacing, _relay(st, "marching cubes"))
        with rep.stage("simplify") as st:
            mesh = _simplify_isosurface(mesh, data, level, target_faces, st)
    with rep.stage("write") as st:
        write_mesh(mesh, output, _relay(st, f"writing {output.name}"))
    return MeshResult(output, len(mesh.vertices), len(mesh.faces), mode)


def estimate_stage_seconds(
    shape: tuple[int, int, int], mode: str, fmt: str, target_faces: int, smooth_iterations: int, max_side: int
) -> dict[str, float]:
    """The expected seconds of each stage (on the machine :data:`COST` was measured on), for ``plan()``.

    ``shape`` is (slices, height, width) as :func:`probe` finds it, before any work.
    """
    raw = math.prod(shape)
    work = _fitted(shape if mode == "isosurface" else shape[1:], max_side)
    n = math.prod(work)
    preprocess = COST["normalize"] * raw + COST["smooth"] * n * smooth_iterations * len(work)
    if work != (shape if mode == "isosurface" else shape[1:]):
        preprocess += COST["resample"] * raw
    if mode == "heightfield":
        full = height_field_faces(*work)
        mesh = COST["grid"] * full
        simplified = COST["resample"] * n + COST["grid"] * target_faces
    else:
        full = int(SURFACE_DENSITY * n ** (2 / 3))
        mesh = COST["cubes"] * n + COST["surface"] * full
        kept = target_faces / max(full, 1)
        simplified = COST["resample"] * n + COST["cubes"] * n * kept**1.5 + COST["surface"] * target_faces
    faces = min(full, target_faces)
    seconds = {
        "load": COST["decode"] * raw,
        "preprocess": preprocess,
        "mesh": mesh,
        "simplify": simplified if full > target_faces else 0.0,
        "write": COST[fmt] * faces,
    }
    return {stage: FLOOR + seconds[stage] for stage in STAGES}


def probe(paths: list[Path]) -> tuple[int, int, int]:
    """(slices, height, width) from the images' headers, without decoding them."""
    from PIL import Image

    slices, sizes = 0, set()
    for path in paths:
        with Image.open(path) as image:
            slices += getattr(image, "n_frames", 1)
            sizes.add((image.height, image.width))
    if len(sizes) != 1:
        raise ValueError(f"the images differ in size: {sorted(sizes)}")
    height, width = sizes.pop()
    return slices, height, width


# -- stages ----------------------------------------------------------------------------------------------------


def _image_paths(images: str | Path | Sequence[str | Path]) -> list[Path]:
    given = [Path(images)] if isinstance(images, str | Path) else [Path(p) for p in images]
    paths: list[Path] = []
    for path in given:
        if path.is_dir():
            paths.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            paths.append(path)
    if not paths:
        raise ValueError(f"no image in {', '.join(map(str, given)) or 'the arguments'}")
    return paths


def _check_options(
    mode: str | None, target: int, iterations: int, height_scale: float, level: float | None, max_side: int
) -> None:
    """The options may come from a job's params, typed by a user: check them before any work."""

    def integer(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if mode is not None and mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: use heightfield or isosurface")
    if not integer(target) or not 20 <= target <= MAX_TARGET_FACES:
        raise ValueError(f"target_faces must be an integer from 20 to {MAX_TARGET_FACES}, not {target!r}")
    if not integer(iterations) or not 0 <= iterations <= MAX_SMOOTH_ITERATIONS:
        raise ValueError(f"smooth_iterations must be an integer from 0 to {MAX_SMOOTH_ITERATIONS}")
    if not isinstance(height_scale, int | float) or not 0 < height_scale <= 100:
        raise ValueError("height_scale must be a number above 0 (and at most 100)")
    if level is not None and (not isinstance(level, int | float) or not 0 < level < 1):
        raise ValueError("level must be between 0 and 1 (the normalized intensity)")
    if not integer(max_side) or max_side < 2:
        raise ValueError("max_side must be an integer of at least 2")


def _load(paths: list[Path], slices: int, st: StageProgress) -> np.ndarray:
    """Every frame of every image as float32 grayscale (luminance for colour images), stacked (z, y, x)."""
    from PIL import Image, ImageSequence

    planes: list[np.ndarray] = []
    for path in paths:
        with Image.open(path) as image:
            for frame in ImageSequence.Iterator(image):
                planes.append(np.asarray(frame.convert("F"), dtype=np.float32))
                st.update(len(planes) / slices, f"loaded {path.name}")
    return np.stack(planes)


def _preprocess(data: np.ndarray, iterations: int, max_side: int, st: StageProgress) -> np.ndarray:
    """Normalize to 0..1, fit within ``max_side``, then smooth pass by pass (each pass a step of progress)."""
    fitted = _fitted(data.shape, max_side)
    steps = 1 + (fitted != data.shape) + iterations * data.ndim
    low, high = float(data.min()), float(data.max())
    data = (data - low) / (high - low) if high > low else np.zeros_like(data)
    done = 1
    st.update(done / steps, "normalizing")
    if fitted != data.shape:
        data = resample(data, fitted)
        done += 1
        st.update(done / steps, f"resampling to {'x'.join(map(str, fitted))}")
    for iteration in range(iterations):
        for axis in range(data.ndim):
            data = smooth_step(data, axis)
            done += 1
            st.update(done / steps, f"smoothing ({iteration + 1}/{iterations})")
    return data.astype(np.float32, copy=False)


def _simplify_height_field(
    mesh: Mesh, data: np.ndarray, extent: tuple[float, float], height_scale: float, target: int, st: StageProgress
) -> Mesh:
    """Down to at most ``target`` faces: the image resampled on the largest grid whose solid fits, re-meshed."""
    if len(mesh.faces) <= target:
        st.update(1.0, f"{len(mesh.faces)} faces: no simplification needed")
        return mesh
    height, width = data.shape
    scale = math.sqrt(target / (2 * height * width))
    while True:
        grid = (max(2, round(height * scale)), max(2, round(width * scale)))
        if height_field_faces(*grid) <= target or grid == (2, 2):
            break
        scale *= 0.99
    coarse = resample(data, grid)
    st.update(0.5, f"resampled to {grid[0]}x{grid[1]}")
    solid = height_field_solid(BASE + height_scale * coarse, extent, _relay(st, "re-triangulating", 0.5, 0.5))
    st.update(1.0, f"{len(mesh.faces)} -> {len(solid.faces)} faces")
    return solid


def _simplify_isosurface(mesh: Mesh, data: np.ndarray, level: float, target: int, st: StageProgress) -> Mesh:
    """Down to at most ``target`` faces: the volume resampled coarser and its surface found again.

    A surface's face count goes with the square of the resolution, so one try nearly always fits; a retry, if
    needed, takes 90 % of what is left of the stage's bar."""
    if len(mesh.faces) <= target:
        st.update(1.0, f"{len(mesh.faces)} faces: no simplification needed")
        return mesh
    faces = len(mesh.faces)
    scale, start, share = 1.0, 0.0, 0.9
    while faces > target:
        scale *= 0.97 * math.sqrt(target / faces)
        grid = tuple(max(2, round(n * scale)) for n in data.shape)
        coarse = resample(data, grid)
        try:
            simplified = isosurface(
                coarse, level, _volume_spacing(data.shape, grid), _relay(st, "marching cubes (coarser)", start, share)
            )
        except ValueError:
            raise ValueError(f"target_faces={target} is too few faces to keep this volume's surface") from None
        faces = len(simplified.faces)
        start, share = start + share, (1 - start - share) * 0.9
    st.update(1.0, f"{len(mesh.faces)} -> {faces} faces")
    return simplified


# -- helpers ---------------------------------------------------------------------------------------------------


def _fitted(shape: tuple[int, ...], max_side: int) -> tuple[int, ...]:
    """``shape`` scaled (keeping proportions) so that no axis exceeds ``max_side``."""
    factor = min(1.0, max_side / max(shape))
    return tuple(max(2, round(n * factor)) if factor < 1 else n for n in shape)


def _extent(shape: tuple[int, int]) -> tuple[float, float]:
    """The height field's (x, y) size: the image's longer side is 1."""
    height, width = shape
    side = max(height, width) - 1
    return (width - 1) / side, (height - 1) / side


def _volume_spacing(full: tuple[int, ...], grid: tuple[int, ...]) -> tuple[float, float, float]:
    """Voxel spacing of ``grid`` samples spanning a ``full`` volume scaled so that its longest axis is 1."""
    side = max(full) - 1
    z, y, x = ((n - 1) / (m - 1) / side for n, m in zip(full, grid, strict=True))
    return z, y, x


def _otsu(data: np.ndarray) -> float:
    from skimage.filters import threshold_otsu

    if float(data.min()) == float(data.max()):
        raise ValueError("the volume is uniform: it has no surface")
    return float(threshold_otsu(data))


def _relay(st: StageProgress, message: str, start: float = 0.0, share: float = 1.0) -> Callable[[float], None]:
    """A progress callback for a step that covers ``start``..``start + share`` of ``st``."""
    return lambda fraction: st.update(start + share * fraction, message)
