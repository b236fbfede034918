"""Triangle meshes as numpy arrays, and the geometry the mesher builds them with: closed height-field solids,
marching cubes slab by slab, and the smoothing and resampling of sampled fields. Pure numpy (plus
scikit-image's marching cubes); no mesh library at run time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Progress = Callable[[float], None]


def _ignore(_: float) -> None:
    """The progress callback of work nobody watches."""


@dataclass
class Mesh:
    """``vertices`` (n, 3) float32 and ``faces`` (m, 3) int32, wound counter-clockwise seen from outside."""

    vertices: np.ndarray
    faces: np.ndarray

    def normals(self) -> np.ndarray:
        a, b, c = (self.vertices[self.faces[:, i]] for i in range(3))
        n = np.cross(b - a, c - a)
        length = np.linalg.norm(n, axis=1, keepdims=True)
        return (n / np.where(length == 0, 1, length)).astype(np.float32)


# -- height fields ---------------------------------------------------------------------------------------------


def height_field_faces(height: int, width: int) -> int:
    """Faces of the closed solid over a ``height`` x ``width`` grid: top, side walls, and the bottom fan."""
    border = 2 * (height - 1) + 2 * (width - 1)
    return 2 * (height - 1) * (width - 1) + 3 * border


def grid_faces(rows: np.ndarray, width: int) -> np.ndarray:
    """The top-surface triangles of grid rows ``rows`` (each row i joins grid rows i and i + 1), normals up."""
    i, j = np.meshgrid(rows, np.arange(width - 1), indexing="ij")
    v00 = (i * width + j).ravel()
    v01, v10 = v00 + 1, v00 + width
    v11 = v10 + 1
    return np.concatenate([np.stack([v00, v01, v11], 1), np.stack([v00, v11, v10], 1)]).astype(np.int32)


def ring(height: int, width: int) -> np.ndarray:
    """Indices of the grid's border vertices, counter-clockwise seen from above."""
    bottom = np.arange(width)
    right = np.arange(1, height) * width + (width - 1)
    top = (height - 1) * width + np.arange(width - 2, -1, -1)
    left = np.arange(height - 2, 0, -1) * width
    return np.concatenate([bottom, right, top, left])


def height_field_solid(
    z: np.ndarray, extent: tuple[float, float], progress: Progress = _ignore, blocks: int = 16
) -> Mesh:
    """The watertight solid under the surface ``z`` (rows along y): the grid spans ``extent`` = (x, y) from the
    origin, side walls go down to z = 0, and a fan closes the bottom. Triangulated in row blocks, each reported."""
    height, width = z.shape
    if height < 2 or width < 2:
        raise ValueError("a height field needs at least 2x2 samples")
    ys, xs = np.meshgrid(
        np.linspace(0, extent[1], height, dtype=np.float32),
        np.linspace(0, extent[0], width, dtype=np.float32),
        indexing="ij",
    )
    top = np.stack([xs, ys, z.astype(np.float32)], axis=-1).reshape(-1, 3)
    parts = np.array_split(np.arange(height - 1), min(blocks, height - 1))
    faces = []
    for part in parts:
        faces.append(grid_faces(part, width))
        progress(len(faces) / len(parts))
    return _close(top, np.concatenate(faces), height, width)


def _close(top_vertices: np.ndarray, top_faces: np.ndarray, height: int, width: int) -> Mesh:
    border = ring(height, width)
    n_top, n_ring = len(top_vertices), len(border)
    bottom_ring = top_vertices[border].copy()
    bottom_ring[:, 2] = 0.0
    # The grid is a rectangle, so a fan from its centre covers the bottom without overlaps.
    center = np.array([[top_vertices[:, 0].mean(), top_vertices[:, 1].mean(), 0.0]], dtype=np.float32)
    vertices = np.concatenate([top_vertices, bottom_ring, center]).astype(np.float32)
    a, b = border, np.roll(border, -1)
    a_low = n_top + np.arange(n_ring)
    b_low = np.roll(a_low, -1)
    walls = np.concatenate([np.stack([a, a_low, b_low], 1), np.stack([a, b_low, b], 1)])
    floor = np.stack([np.full(n_ring, n_top + n_ring), b_low, a_low], 1)
    return Mesh(vertices, np.concatenate([top_faces, walls, floor]).astype(np.int32))


# -- isosurfaces -----------------------------------------------------------------------------------------------


def isosurface(
    volume: np.ndarray,
    level: float,
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
    progress: Progress = _ignore,
    slabs: int = 24,
) -> Mesh:
    """The closed surface where ``volume`` (z, y, x) crosses ``level``, by marching cubes over slabs of slices.

    The volume is padded with a layer below ``level`` so the surface closes where the object touches its edge.
    Slabs share their boundary slice, whose vertices come out bit-identical from both sides, so welding equal
    positions makes the surface watertight. Vertices are (x, y, z) in input voxels times ``spacing``.
    """
    from skimage.measure import marching_cubes

    padded = np.pad(volume, 1, constant_values=min(float(volume.min()), level) - 1.0)
    depth = padded.shape[0]
    bounds = np.unique(np.linspace(0, depth - 1, min(slabs, depth - 1) + 1).astype(int))
    vertices, faces, offset = [], [], 0
    for index, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        slab = padded[start : stop + 1]
        if slab.min() < level < slab.max():
            v, f, _, _ = marching_cubes(slab, level=level, allow_degenerate=False)
            v[:, 0] += start
            vertices.append(v)
            faces.append(f + offset)
            offset += len(v)
        progress((index + 1) / (len(bounds) - 1))
    if not faces:
        raise ValueError(f"the volume has no surface at level {level:.3g}")
    unique, inverse = np.unique(np.concatenate(vertices), axis=0, return_inverse=True)
    # Back to unpadded voxels, then (z, y, x) -> (x, y, z); reversing the axes also turns the faces outwards.
    points = (unique - 1.0)[:, ::-1] * np.asarray(spacing[::-1])
    return Mesh(points.astype(np.float32), inverse.ravel()[np.concatenate(faces)].astype(np.int32))


# -- sampled fields --------------------------------------------------------------------------------------------


def smooth_step(data: np.ndarray, axis: int) -> np.ndarray:
    """One pass of the binomial filter [1, 2, 1] / 4 along ``axis``, edges replicated.

    ``n`` passes along every axis are a discrete Gaussian of variance ``n / 2`` (sigma ``sqrt(n / 2)`` samples).
    """
    a = np.moveaxis(data, axis, 0)
    out = 0.5 * a
    out[1:] += 0.25 * a[:-1]
    out[:1] += 0.25 * a[:1]
    out[:-1] += 0.25 * a[1:]
    out[-1:] += 0.25 * a[-1:]
    return np.moveaxis(out, 0, axis)


def resample(data: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``data`` at ``shape`` samples spanning the same extent (first to last sample), low-pass filtered first so
    that shrinking averages rather than aliases."""
    from skimage.filters import gaussian

    sigma = [max(0.0, (n / m - 1) / 2) for n, m in zip(data.shape, shape, strict=True)]
    if any(sigma):
        data = gaussian(data, sigma=sigma, mode="nearest", preserve_range=True)
    for axis, (n, m) in enumerate(zip(data.shape, shape, strict=True)):
        if n == m:
            continue
        position = np.linspace(0, n - 1, m)
        low = np.minimum(position.astype(int), n - 2)
        t = (position - low).astype(np.float32)
        a = np.moveaxis(data, axis, 0)
        weights = t.reshape((-1,) + (1,) * (data.ndim - 1))
        data = np.moveaxis(a[low] * (1 - weights) + a[low + 1] * weights, 0, axis)
    return np.ascontiguousarray(data, dtype=np.float32)
