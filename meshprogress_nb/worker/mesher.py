"""Images to triangle meshes, in five stages whose reported progress follows the work done.

``heightfield``: one image becomes a closed solid whose top is the image's brightness (a relief).
``isosurface``: a stack of images (or a multi-page TIFF) becomes a volume, meshed by marching cubes slab by slab.
Both are then simplified by vertex clustering to about ``target_faces`` and written as PLY, STL or OBJ.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .formats import write_mesh
from .meshes import Mesh, close_height_field, cluster_vertices, grid_faces, weld
from .reporter import ProgressReporter

STAGES = {"load": 1, "preprocess": 2, "mesh": 4, "simplify": 3, "write": 1}
BLOCKS = 16
MAX_SIDE = 512


@dataclass(frozen=True)
class MeshResult:
    path: Path
    vertices: int
    faces: int


class _Silent:
    """A stage nobody watches."""

    def update(self, fraction: float, message: str | None = None) -> None: ...


class _Quiet:
    """Stands in for a reporter when the caller wants none."""

    def plan(self, weights: dict[str, float]) -> None: ...

    def stage(self, name: str, weight: float | None = None) -> nullcontext[_Silent]:
        return nullcontext(_Silent())


def generate_mesh(
    images: str | Path | Sequence[str | Path],
    output: str | Path,
    reporter: ProgressReporter | None = None,
    *,
    mode: str | None = None,
    target_faces: int = 200_000,
    smooth_iterations: int = 20,
    height_scale: float = 0.25,
) -> MeshResult:
    """Mesh ``images`` into ``output`` (format from its suffix), reporting each stage to ``reporter``."""
    paths = [Path(images)] if isinstance(images, str | Path) else [Path(p) for p in images]
    if not paths:
        raise ValueError("no image given")
    rep = reporter or _Quiet()
    rep.plan(STAGES)
    with rep.stage("load") as st:
        volume = _load(paths, st)
    mode = mode or ("isosurface" if volume.ndim == 3 and volume.shape[0] > 1 else "heightfield")
    if mode not in ("heightfield", "isosurface"):
        raise ValueError(f"unknown mode {mode!r}: heightfield or isosurface")
    with rep.stage("preprocess") as st:
        data = _preprocess(volume if mode == "isosurface" else _as_image(volume), smooth_iterations, st)
    with rep.stage("mesh") as st:
        mesh = _height_field(data, height_scale, st) if mode == "heightfield" else _isosurface(data, st)
    with rep.stage("simplify") as st:
        mesh = _simplify(mesh, target_faces, mode, data, height_scale, st)
    out = Path(output)
    with rep.stage("write") as st:
        write_mesh(mesh, out, lambda f: st.update(f, f"writing {out.name}"))
    return MeshResult(out, len(mesh.vertices), len(mesh.faces))


def _load(paths: list[Path], st) -> np.ndarray:  # noqa: ANN001
    from PIL import Image, ImageSequence

    slices = []
    for index, path in enumerate(paths):
        with Image.open(path) as image:
            for frame in ImageSequence.Iterator(image):
                slices.append(np.asarray(frame.convert("F"), dtype=np.float32))
        st.update((index + 1) / len(paths), f"loaded {path.name}")
    shapes = {s.shape for s in slices}
    if len(shapes) != 1:
        raise ValueError(f"images differ in size: {sorted(shapes)}")
    return np.stack(slices)


def _as_image(volume: np.ndarray) -> np.ndarray:
    image = volume[0]
    step = max(1, int(np.ceil(max(image.shape) / MAX_SIDE)))
    return image[::step, ::step]


def _preprocess(data: np.ndarray, iterations: int, st) -> np.ndarray:  # noqa: ANN001
    """Normalize to 0..1, then smooth by repeated neighbour averaging (a discrete heat flow, one step a tick)."""
    low, high = float(data.min()), float(data.max())
    data = (data - low) / (high - low) if high > low else np.zeros_like(data)
    axes = range(data.ndim)
    for step in range(iterations):
        padded = np.pad(data, 1, mode="edge")
        total = np.zeros_like(data)
        for axis in axes:
            for shift in (0, 2):
                index = [slice(1, -1)] * data.ndim
                index[axis] = slice(shift, shift + data.shape[axis])
                total += padded[tuple(index)]
        data = 0.5 * data + 0.5 * total / (2 * data.ndim)
        st.update((step + 1) / max(iterations, 1), "smoothing")
    return data.astype(np.float32)


def _height_field(image: np.ndarray, scale: float, st) -> Mesh:  # noqa: ANN001
    height, width = image.shape
    if height < 2 or width < 2:
        raise ValueError("the image must be at least 2x2 pixels")
    size = max(height, width)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    z = 0.05 + scale * image
    vertices = np.stack([xs / size, ys / size, z], axis=-1).reshape(-1, 3)
    faces = []
    for block in np.array_split(np.arange(height - 1), min(BLOCKS, height - 1)):
        faces.append(grid_faces(block, width))
        st.update(len(faces) / min(BLOCKS, height - 1), "triangulating")
    return close_height_field(vertices, np.concatenate(faces), height, width)


def _isosurface(volume: np.ndarray, st) -> Mesh:  # noqa: ANN001
    from skimage.measure import marching_cubes

    if min(volume.shape) < 2:
        raise ValueError("an isosurface needs at least 2 slices of at least 2x2 pixels")
    padded = np.pad(volume, 1)  # closes the surface where the object touches the volume's edge
    depth = padded.shape[0]
    bounds = np.linspace(0, depth - 1, min(BLOCKS, depth - 1) + 1).astype(int)
    vertices, faces, offset = [], [], 0
    for index, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        slab = padded[start : stop + 1]
        if slab.shape[0] >= 2 and slab.min() < 0.5 < slab.max():
            v, f, _, _ = marching_cubes(slab, level=0.5)
            v[:, 0] += start
            vertices.append(v[:, ::-1])  # (z, y, x) -> (x, y, z)
            faces.append(f + offset)
            offset += len(v)
        st.update((index + 1) / (len(bounds) - 1), "marching cubes")
    if not faces:
        raise ValueError("the volume has no surface at level 0.5")
    size = float(max(padded.shape))
    return weld(Mesh((np.concatenate(vertices) / size).astype(np.float32), np.concatenate(faces).astype(np.int32)))


def _simplify(mesh: Mesh, target: int, mode: str, data: np.ndarray, scale: float, st) -> Mesh:  # noqa: ANN001
    """Down to about ``target`` faces. A height field is clustered on its grid (which keeps it watertight):
    block means of the heights, re-meshed; other meshes by vertex clustering in growing cells."""
    if len(mesh.faces) <= target:
        st.update(1.0, "already small enough")
        return mesh
    if mode == "heightfield":
        factor = 1
        coarse = data
        while len(mesh.faces) > target and min(coarse.shape) > 3:
            factor += 1
            rows, cols = (data.shape[0] // factor) * factor, (data.shape[1] // factor) * factor
            coarse = data[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))
            faces = 2 * (coarse.shape[0] - 1) * (coarse.shape[1] - 1)
            st.update(min(0.9, target / max(faces, 1)), f"clustering {factor}x{factor}")
            if faces <= target:
                mesh = _height_field(coarse, scale, _Silent())
        st.update(1.0, f"{len(mesh.faces)} faces")
        return mesh
    cell = 1.0 / 256
    simplified = mesh
    while len(simplified.faces) > target:
        simplified = cluster_vertices(mesh, cell)
        cell *= 1.25
        st.update(min(0.95, target / max(len(simplified.faces), 1)), "clustering vertices")
    st.update(1.0, f"{len(simplified.faces)} faces")
    return simplified
