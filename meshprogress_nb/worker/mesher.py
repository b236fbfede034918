"""Images to meshes, in stages whose reported progress follows the time they take.

``heightfield``: one 2D image becomes a closed solid whose top is the image's brightness (a relief over a flat
base). ``isosurface``: a volume (NIfTI, NRRD, MetaImage, a DICOM series, a TIFF stack, or a folder of slices)
becomes one closed surface per label of a label map, or per threshold of a grey-level image (Otsu's by default),
in physical coordinates (spacing, origin and direction from the file). With ``kind="tetrahedra"`` each region's
surface is then filled with tetrahedra.

Stages: ``load``, ``preprocess`` (normalize, fit to ``max_side``, Gaussian smoothing), ``mesh`` (marching cubes, or
the height field's grid), ``simplify`` (quadric decimation to ``target_faces``, checked closed, with resampling as
the fallback), ``tetrahedralize`` (tetrahedra only) and ``write`` (the result through meshio, its preview and its
quality report). Each stage's time is estimated from measured per-unit and per-call costs (:data:`COST`) and the
sizes known when it starts: marching cubes' faces are counted before it runs, and the plan is made again once the
surface is made. :mod:`.pacing` turns the estimates into the bar: each stage's share from the time elapsed and
the time expected, and its advance, while one library call runs, by the time it was expected to take.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .geometry import Frame, Geometry, is_closed
from .output_formats import SURFACE_FORMATS, mesh_format
from .pacing import PacedStage, Planner, Reporter, StageProgress
from .readers import Image, expand, probe, read_image
from .relief import close_relief, decimate_relief, height_field_faces, height_field_solid, relief_sheet
from .tetrahedra import EDGE_LENGTH
from .work_clock import work_clock

STAGES = ("load", "preprocess", "mesh", "simplify", "write")
TETRA_STAGES = ("load", "preprocess", "mesh", "simplify", "tetrahedralize", "write")
MODES = ("heightfield", "isosurface")
KINDS = ("surface", "tetrahedra")
BASE = 0.05  # thickness of the height-field solid under the image's darkest point, in units of its longer side
MAX_TARGET_FACES = 50_000_000
MAX_SMOOTH_ITERATIONS = 1_000_000
MAX_LEVELS = 16

# Seconds per unit of work and per call (numpy 2.4, scipy 1.17, scikit-image 0.26, fast-simplification 0.2, meshio
# 5.3), measured step by step inside jobs on 256^3 spheres and tori, a 512^2 height field, the demo's head MRI and
# 96^3 noise, on a 2-core VM at load ~1.5-2 (2026-12-05; the fixed costs are what a 0.1 s job is mostly made of).
# They are the seconds the Planner paces the bar by, rescaled by the pace it measures on the stages done. Marching
# cubes costs per voxel scanned and per face made; "tetra" is an earlier figure scaled by the others' factor (~5).
TETRA_SCALING = 2.8
"""fTetWild's time grows about as edge_length ** -2.8 (the head MRI: 1.5 s at 0.05, 5.8 s at 0.03, 19 s at 0.02)."""

COST = {
    "open": 2e-3,  # per image read, whatever its size
    "decode": 3.3e-9,  # per voxel read
    "unique": 1e-8,  # per voxel of an integer image, looking for a label map's labels
    "normalize": 1.7e-9,  # per voxel
    "copy": 4e-10,  # per voxel, the smoothing's float32 copy
    "smooth": 8.5e-10,  # per voxel, per axis, per kernel tap
    "otsu": 8e-9,  # per voxel, Otsu's threshold
    "zoom": 8.5e-8,  # per voxel of a resampled grid
    "count": 5e-10,  # per voxel, counting the faces marching cubes will make (surfaces.surface_faces)
    "apart": 8e-3,  # per library call run in a forked child (apart.py): the fork, the pipe, the wait
    "cubes": 8.4e-9,  # per voxel scanned by marching cubes
    "face": 5e-7,  # per face marching cubes makes
    "grid": 3.2e-8,  # per face of a height-field solid
    "decimate": 1.2e-6,  # per face in, of an isosurface
    "close": 2.5e-4,  # per border point of a height field, its graded walls and base (relief.close_relief)
    "relief": 2.1e-6,  # per face of a height field's top, decimating it (relief.decimate_relief's passes)
    "relief_target": 3.5e-5,  # per target face of a height field: retriangulating and closing each pass's top
    "error_fixed": 1e-3,  # per measurement of the simplification's error
    "error": 4e-6,  # per measured vertex (simplification_error's sample)
    "tree": 1e-6,  # per simplified face (the tree the sample is measured against)
    "tetra": 6e-3,  # per surface face fTetWild fills (a fixed cost dominates at small sizes)
    "write_fixed": 2e-3,  # per mesh written, whatever its size
    "write": 2e-6,  # per cell written (all formats through meshio, plus the preview and the report)
}
SURFACE_DENSITY = 6.0  # isosurface faces per voxel^(2/3) of an object filling part of its volume: a first guess
ERROR_SAMPLES = 4000  # vertices whose distance to the simplified surface is measured (about 0.1 s)


@dataclass(frozen=True)
class MeshResult:
    """What :func:`generate_mesh` wrote, and its quality report."""

    path: Path
    vertices: int
    faces: int
    mode: str
    kind: str = "surface"
    cells: int = 0
    preview: Path | None = None
    quality: dict[str, Any] = field(default_factory=dict)


class _Silent:
    def update(self, fraction: float, message: str | None = None) -> None:
        """Nobody watches."""


class _NoReporter:
    """Stands in for a reporter when the caller wants none."""

    def stage(self, name: str, weight: float | None = None) -> AbstractContextManager[StageProgress]:
        return nullcontext(_Silent())


def generate_mesh(
    images: str | Path | Sequence[str | Path],
    output: str | Path,
    reporter: Reporter | None = None,
    *,
    mode: str | None = None,
    kind: str = "surface",
    labels: Sequence[int] | None = None,
    levels: Sequence[float] | None = None,
    level: float | None = None,
    target_faces: int = 200_000,
    smooth_iterations: int = 8,
    height_scale: float = 0.25,
    max_side: int = 1024,
    edge_length: float = EDGE_LENGTH,
    remesh: bool = False,
    preview: bool = True,
) -> MeshResult:
    """Mesh ``images`` into ``output`` (.vtu, .msh, .xdmf, .ply, .stl or .obj), reporting each stage.

    ``images``: a 2D image (height field) or a volume: one file, a DICOM folder, slices, or a multi-page TIFF.
    ``mode``: ``"heightfield"`` or ``"isosurface"``; by default isosurface for a volume. ``kind``: ``"surface"``
    or ``"tetrahedra"`` (volume meshes: .vtu, .msh or .xdmf). ``labels``: the labels of a label map to mesh (by
    default every non-zero one of an integer image with at most 64 values). ``levels`` (or one ``level``): the
    thresholds of a grey-level image on its normalized 0..1 scale (default: Otsu's). ``target_faces``: the most
    surface faces. ``smooth_iterations``: the Gaussian's strength, sigma ``sqrt(n / 2)`` voxels along the finest
    axis (for label masks at most 1 voxel, so thin parts survive). ``height_scale``: the relief's height, in
    units of the image's longer side. ``max_side``: larger inputs are resampled to at most this many samples
    along each axis first. ``edge_length`` (tetrahedra): fTetWild's target edge length as a fraction of each
    region's bounding-box diagonal, from 0.01 to 0.2 (finer is slower, about as ``edge_length ** -2.8``).
    ``remesh``: remesh the surface isotropically (near-equilateral triangles, about as many, for simulation; needs
    the ``[remesh]`` extra, see :mod:`.remesh`). ``preview``: also write ``<stem>.preview.ply`` (see :mod:`.preview`).

    ``reporter`` gets one ``stage(name, share)`` after the other; it may be a :class:`~.reporter.ProgressReporter`,
    whose ``JobCancelled`` then stops the work within one step.
    """
    clock = work_clock()
    started = clock()
    paths = expand(images)
    output = Path(output)
    fmt = mesh_format(output)
    levels = [level] if levels is None and level is not None else levels
    _check_options(mode, kind, fmt, labels, levels, target_faces, smooth_iterations, height_scale, max_side)
    if not isinstance(edge_length, int | float) or isinstance(edge_length, bool) or not 0.01 <= edge_length <= 0.2:
        raise ValueError("edge_length must be a number from 0.01 to 0.2 (a fraction of the region's diagonal)")
    shape = probe(paths)
    mode = mode or ("isosurface" if shape[0] > 1 else "heightfield")
    if mode == "heightfield" and shape[0] > 1:
        raise ValueError(f"a height field is made from one image, not {shape[0]} slices: use mode='isosurface'")
    if mode == "isosurface" and (shape[0] < 2 or min(shape) < 2):
        raise ValueError("an isosurface needs at least 2 slices of at least 2x2 pixels")
    if mode == "heightfield" and kind == "tetrahedra":
        raise ValueError("tetrahedra are made from volumes: use an image stack, or kind='surface'")
    if not isinstance(remesh, bool):
        raise ValueError("remesh must be true or false")
    if remesh:
        from .remesh import check_available

        check_available()
    import_libraries(kind)  # before the first stage, so that no stage's time holds an import
    stages = TETRA_STAGES if kind == "tetrahedra" else STAGES
    planner = Planner(
        reporter or _NoReporter(), (*stages[:4], "remesh", *stages[4:]) if remesh else stages, started, clock
    )
    sizes = StageSizes(shape, mode, max_side, smooth_iterations, target_faces)
    planner.plan(sizes.estimate())

    with planner.stage("load") as st:
        st.update(0.0, "reading")
        image = read_image(paths)
    if mode == "heightfield":
        surface, units, simplification = _height_field(image, planner, sizes, height_scale)
    else:
        surface, units, simplification = _volume(image, planner, sizes, labels, levels)
    if remesh:
        surface = _remeshed(surface, planner, sizes.target)
    result = surface
    if kind == "tetrahedra":
        tetra_cost = COST["tetra"] * len(surface.cells) * (EDGE_LENGTH / edge_length) ** TETRA_SCALING
        planner.plan({"tetrahedralize": tetra_cost})
        with planner.stage("tetrahedralize") as st:
            from .tetrahedra import tetrahedralize

            st.update(0.0, "fTetWild")
            result = tetrahedralize(surface, _stay, edge_length)
    with planner.stage("write") as st:
        from .preview import write_preview
        from .quality import quality_report
        from .writers import write_mesh

        st.update(0.0, f"writing {output.name}")
        write_mesh(result, output)
        st.update(0.0, "measuring quality")
        quality = quality_report(result, units, simplification)
        st.update(0.0, "writing the preview")
        preview_file = write_preview(result, output) if preview else None
    return MeshResult(
        output,
        len(result.points),
        len(surface.cells),
        mode,
        kind,
        len(result.cells),
        preview_file,
        quality,
    )


def import_libraries(kind: str) -> None:
    """Import what the stages call (about a second the first time), so that it is not counted in a stage, and so
    that a job's memory cap (server/dispatch/limits.py) is spent on its data, not on mapping the libraries. The
    functions are named: scikit-image loads a submodule when its function is first looked up (Otsu's: ~15 ms)."""
    import fast_simplification  # noqa: F401
    import meshio  # noqa: F401
    import SimpleITK  # noqa: F401
    import tifffile  # noqa: F401
    from scipy.ndimage import find_objects, gaussian_filter1d, zoom  # noqa: F401
    from scipy.spatial import cKDTree  # noqa: F401
    from skimage.filters import threshold_otsu  # noqa: F401
    from skimage.measure import marching_cubes  # noqa: F401
    from trimesh.triangles import closest_point  # noqa: F401

    from . import preview, quality, surfaces, writers  # noqa: F401

    if kind == "tetrahedra":
        import wildmeshing  # noqa: F401

        from . import tetrahedra  # noqa: F401


@dataclass
class StageSizes:
    """What the estimates are made of, filled in as the work learns it."""

    shape: tuple[int, int, int]
    mode: str
    max_side: int
    smooth_iterations: int
    target: int
    regions: int = 1
    faces: int = 0
    labels_map: bool = False
    integer: bool = False  # an integer image, which may be a label map (looked for in preprocess)
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)  # (z, y, x), known once read
    otsu: bool = False  # the level is Otsu's threshold

    @property
    def work(self) -> tuple[int, ...]:
        shape = self.shape if self.mode == "isosurface" else self.shape[1:]
        return _fitted(shape, self.max_side)

    def load_seconds(self) -> float:
        return COST["open"] + COST["decode"] * math.prod(self.shape)

    @property
    def expected_faces(self) -> int:
        """The surface's faces: counted once meshed; before, a count of its crossings or (label maps) a guess."""
        if self.faces:
            return self.faces
        if self.mode == "heightfield":
            return height_field_faces(*self.work)
        return int(SURFACE_DENSITY * math.prod(self.work) ** (2 / 3)) * self.regions

    def _smoothing(self, n: int, spacing: Sequence[float]) -> float:
        """surfaces.smooth: a float32 copy, then a Gaussian along each axis, of 6 sigmas' taps (sigma in voxels
        shrinks along coarser axes: it is isotropic in millimetres); nothing when sigma is 0."""
        sigma = math.sqrt(self.smooth_iterations / 2)
        if not sigma:
            return 0.0
        taps = sum(2 * math.ceil(3 * sigma * min(spacing) / s) + 1 for s in spacing)
        return COST["copy"] * n + COST["smooth"] * n * taps

    @property
    def border(self) -> int:
        """A height field's border points (its walls stand on them)."""
        height, width = self.work
        return 2 * (height + width) - 4

    def decimate_seconds(self) -> float:
        if self.mode == "heightfield":
            return COST["apart"] + COST["relief"] * self.expected_faces + COST["relief_target"] * self.target
        return COST["apart"] * self.regions + COST["decimate"] * self.expected_faces

    def error_seconds(self) -> float:
        """simplification_error: a tree of the simplified faces, queried by a sample of the full surface's vertices."""
        faces = self.expected_faces
        return COST["error_fixed"] + COST["error"] * min(ERROR_SAMPLES, faces // 2) + COST["tree"] * self.target

    def estimate(self) -> dict[str, float]:
        raw, n = math.prod(self.shape), math.prod(self.work)
        preprocess = COST["normalize"] * raw + (COST["zoom"] * n if n != raw else 0.0)
        faces = self.expected_faces
        if self.mode == "heightfield":
            preprocess += self._smoothing(n, (1.0, 1.0))
            mesh = COST["grid"] * faces + COST["close"] * self.border
        else:
            if self.integer:
                preprocess += COST["unique"] * raw
            if not self.labels_map:
                levels = COST["count"] * self.regions + COST["otsu"] * self.otsu
                preprocess += self._smoothing(n, self.spacing) + levels * n
            mesh = (COST["apart"] + COST["cubes"] * n) * self.regions + COST["face"] * faces
        simplify = self.decimate_seconds() + self.error_seconds() if faces > self.target else 0.0
        return {
            "load": self.load_seconds(),
            "preprocess": preprocess,
            "mesh": mesh,
            "simplify": simplify,
            "write": COST["write_fixed"] + COST["write"] * min(faces, self.target),
        }


def _height_field(
    image: Image, planner: Planner, sizes: StageSizes, height_scale: float
) -> tuple[Geometry, str, dict[str, Any] | None]:
    with planner.stage("preprocess") as st:
        data = _normalized(image.data[0], sizes.max_side, st)
        sigma = math.sqrt(sizes.smooth_iterations / 2)
        if sigma > 0:
            from .surfaces import smooth

            data = smooth(data[None], (0.0, sigma, sigma), lambda f: st.update(0.0, "smoothing"))[0]
    data = np.flipud(data)  # image rows run down; the relief's y runs up, so it reads like the image from above
    height, width = data.shape
    if image.physical:
        _, sy, sx = image.frame.spacing
        sy, sx = sy * (image.shape[1] - 1) / (height - 1), sx * (image.shape[2] - 1) / (width - 1)
        extent = ((width - 1) * sx, (height - 1) * sy)
        units = "mm"
    else:
        side = max(height, width) - 1
        extent = ((width - 1) / side, (height - 1) / side)
        units = "relative"
    scale = max(extent)
    z = scale * (BASE + height_scale * data)
    with planner.stage("mesh") as st:
        top, closing = COST["grid"] * sizes.expected_faces, COST["close"] * sizes.border
        split = top / (top + closing)
        sheet = relief_sheet(z, extent, lambda f: st.update(split * f, "triangulating"))
        st.update(split, "walls and base")
        full = close_relief(sheet, extent)
    sizes.faces = len(full.cells)
    planner.plan(sizes.estimate())

    def resampled(factor: float) -> Geometry:
        from scipy.ndimage import zoom

        grid = (max(2, round(height * factor)), max(2, round(width * factor)))
        return height_field_solid(zoom(z, (grid[0] / height, grid[1] / width), order=1), extent)

    def faces_at(factor: float) -> int:
        return height_field_faces(max(2, round(height * factor)), max(2, round(width * factor)))

    with planner.stage("simplify") as st:
        decimated = partial(decimate_relief, sheet, extent)
        surface, simplification = _simplify(full, sizes, st, resampled, faces_at, planner.seconds, decimated)
    return surface, units, simplification


def _remeshed(surface: Geometry, planner: Planner, target: int) -> Geometry:
    """The ``remesh`` stage: :func:`.remesh.remesh` to at most the surface's faces, run apart (MeshLab holds the
    GIL) while the stage's ticker advances the bar by its estimate."""
    from .apart import run_apart
    from .remesh import SECONDS_PER_FACE, remesh

    faces = min(target, len(surface.cells))
    planner.plan({"remesh": COST["apart"] + SECONDS_PER_FACE * faces})
    with planner.stage("remesh") as st:
        st.update(0.0, "isotropic remeshing")
        return run_apart(partial(remesh, surface, faces))


def _volume(
    image: Image, planner: Planner, sizes: StageSizes, labels: Sequence[int] | None, levels: Sequence[float] | None
) -> tuple[Geometry, str, dict[str, Any] | None]:
    from .surfaces import find_labels, label_surfaces, level_surfaces, sigmas, smooth, surface_faces

    frame = image.frame
    sigma_voxels = math.sqrt(sizes.smooth_iterations / 2)
    sizes.integer = levels is None and not labels and image.data.dtype.kind in "iu"
    sizes.otsu = levels is None and not labels
    sizes.spacing = image.frame.spacing
    planner.plan(sizes.estimate())
    with planner.stage("preprocess") as st:
        found = find_labels(image.data) if sizes.integer else None
        chosen = list(labels) if labels else found
        if chosen:
            data = image.data
            if max(data.shape) > sizes.max_side:
                from scipy.ndimage import zoom

                factors = [m / n for m, n in zip(sizes.work, data.shape, strict=True)]
                data = zoom(data, factors, order=0)
                frame = _zoomed(frame, image.data.shape, data.shape)
            sizes.labels_map, sizes.regions = True, len(chosen)
        else:
            data = _normalized(image.data, sizes.max_side, st)
            frame = _zoomed(frame, image.data.shape, data.shape)
            data = smooth(data, sigmas(sigma_voxels, frame), lambda f: st.update(0.0, "smoothing"))
            levels = list(levels) if levels else [_otsu(data)]
            sizes.regions = len(levels)
            st.update(0.0, "counting the surface's faces")
            sizes.faces = sum(surface_faces(data, level) for level in levels)
    planner.plan(sizes.estimate())
    with planner.stage("mesh") as st:
        if chosen:
            mask_sigma = sigmas(min(1.0, sigma_voxels), frame)
            full = label_surfaces(data, frame, chosen, mask_sigma, lambda f: st.update(f, "marching cubes"))
        else:
            assert levels is not None
            st.update(0.0, "marching cubes")
            full = level_surfaces(data, frame, levels, lambda f: st.update(f, "marching cubes"))
    sizes.faces = len(full.cells)
    planner.plan(sizes.estimate())

    def resampled(factor: float) -> Geometry:
        from scipy.ndimage import zoom

        coarse = zoom(data, factor, order=0 if chosen else 1)
        coarse_frame = _zoomed(frame, data.shape, coarse.shape)
        if chosen:
            return label_surfaces(coarse, coarse_frame, chosen, sigmas(min(1.0, sigma_voxels), coarse_frame), _stay)
        return level_surfaces(coarse, coarse_frame, list(levels or []), _stay)

    with planner.stage("simplify") as st:
        surface, simplification = _simplify(full, sizes, st, resampled, None, planner.seconds)
    units = "mm" if image.physical else "voxel"
    return surface, units, simplification


def _simplify(
    full: Geometry,
    sizes: StageSizes,
    st: PacedStage,
    resampled: Callable[[float], Geometry],
    faces_at: Callable[[float], int] | None,
    seconds: Callable[[float], float],
    decimated: Callable[[int], Geometry | None] | None = None,
) -> tuple[Geometry, dict[str, Any] | None]:
    """Quadric decimation to the target (``decimated``, else :func:`.surfaces.decimate` of ``full``), checked
    closed; else the field resampled coarser and meshed again. ``seconds`` turns an estimate into this machine's
    seconds, to re-plan the stage when a pass fails."""
    from .quality import simplification_error
    from .surfaces import decimate

    if len(full.cells) <= sizes.target:
        st.update(1.0, f"{len(full.cells)} faces: no simplification needed")
        return full, None
    decimating, measuring = sizes.decimate_seconds(), sizes.error_seconds()
    split = decimating / (decimating + measuring)

    def again(relative: float) -> None:
        st.expect(seconds(relative * decimating + measuring), "quadric decimation, a more careful pass")

    st.update(0.0, "quadric decimation")
    surface = decimated(sizes.target) if decimated is not None else decimate(full, sizes.target, again)
    method = "quadric"
    if surface is None:
        method = "resample"
        st.update(0.0, "resampling coarser")
        factor = math.sqrt(sizes.target / len(full.cells))
        while True:
            factor *= 0.97
            if faces_at is not None and faces_at(factor) > sizes.target:
                continue
            surface = resampled(factor)
            if len(surface.cells) <= sizes.target:
                break
        if not is_closed(surface):
            raise ValueError(f"target_faces={sizes.target} is too few faces to keep this surface closed")
    st.update(split, "measuring the simplification's error")

    def measured(fraction: float) -> None:
        st.update(split + (1.0 - split) * fraction)

    error = simplification_error(full, surface, method, ERROR_SAMPLES, measured)
    st.update(1.0, f"{len(full.cells)} -> {len(surface.cells)} faces ({method})")
    return surface, error


# -- helpers ---------------------------------------------------------------------------------------------------


def _stay(_: float) -> None:
    """Progress of a call that the stage's ticker reports by time."""


def _check_options(
    mode: str | None,
    kind: str,
    fmt: str,
    labels: Sequence[int] | None,
    levels: Sequence[float] | None,
    target: int,
    iterations: int,
    height_scale: float,
    max_side: int,
) -> None:
    """The options may come from a job's params, typed by a user: check them before any work."""

    def integer(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def number(value: object) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

    if mode is not None and mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: use heightfield or isosurface")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: use surface or tetrahedra")
    if kind == "tetrahedra" and fmt in SURFACE_FORMATS:
        raise ValueError(f"kind='tetrahedra' is written as .vtu, .msh or .xdmf, not .{fmt} (a surface format)")
    if not integer(target) or not 20 <= target <= MAX_TARGET_FACES:
        raise ValueError(f"target_faces must be an integer from 20 to {MAX_TARGET_FACES}, not {target!r}")
    if not integer(iterations) or not 0 <= iterations <= MAX_SMOOTH_ITERATIONS:
        raise ValueError(f"smooth_iterations must be an integer from 0 to {MAX_SMOOTH_ITERATIONS}")
    if not number(height_scale) or not 0 < height_scale <= 100:
        raise ValueError("height_scale must be a number above 0 (and at most 100)")
    if levels is not None and (
        isinstance(levels, str) or not 0 < len(levels) <= MAX_LEVELS or not all(number(v) and 0 < v < 1 for v in levels)
    ):
        raise ValueError(f"level(s) must be 1 to {MAX_LEVELS} numbers between 0 and 1 (the normalized intensity)")
    if labels is not None and (
        isinstance(labels, str) or not 0 < len(labels) <= 64 or not all(integer(v) and v > 0 for v in labels)
    ):
        raise ValueError("labels must be 1 to 64 positive integers")
    if not integer(max_side) or max_side < 2:
        raise ValueError("max_side must be an integer of at least 2")


def _normalized(data: np.ndarray, max_side: int, st: StageProgress) -> np.ndarray:
    """0..1 float32, resampled to fit within ``max_side``. One new array for a float32 image: each one is fresh
    memory whose page faults cost more than the arithmetic (and ten times more while the machine is loaded)."""
    low, high = float(data.min()), float(data.max())
    if high > low:
        scaled = data - low  # float32 for a float32 image, float64 for integers
        scaled /= high - low
        data = scaled.astype(np.float32, copy=False)
    else:
        data = np.zeros(data.shape, np.float32)
    st.update(0.0, "normalizing")
    fitted = _fitted(data.shape, max_side)
    if fitted != data.shape:
        from scipy.ndimage import zoom

        data = zoom(data, [m / n for m, n in zip(fitted, data.shape, strict=True)], order=1, grid_mode=False)
        st.update(0.0, f"resampling to {'x'.join(map(str, fitted))}")
    return data


def _fitted(shape: tuple[int, ...], max_side: int) -> tuple[int, ...]:
    """``shape`` scaled (keeping proportions) so that no axis exceeds ``max_side``."""
    factor = min(1.0, max_side / max(shape))
    return tuple(max(2, round(n * factor)) if factor < 1 else n for n in shape)


def _zoomed(frame: Frame, before: tuple[int, ...], after: tuple[int, ...]) -> Frame:
    """The frame of a grid of ``after`` samples spanning the same extent as ``before`` (first to last sample)."""
    if before == after:
        return frame
    spacing = tuple(s * (n - 1) / max(m - 1, 1) for s, n, m in zip(frame.spacing, before, after, strict=True))
    return Frame(spacing, frame.origin, frame.direction)  # type: ignore[arg-type]


def _otsu(data: np.ndarray) -> float:
    from skimage.filters import threshold_otsu

    if float(data.min()) == float(data.max()):
        raise ValueError("the volume is uniform: it has no surface")
    return float(threshold_otsu(data))


__all__ = ["STAGES", "TETRA_STAGES", "MeshResult", "generate_mesh"]
