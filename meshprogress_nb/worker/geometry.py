"""Meshes as numpy arrays (:class:`Geometry`: triangles or tetrahedra, with a label per cell) and the isosurfaces
the mesher builds them with, in physical coordinates (height-field solids are in :mod:`.relief`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Geometry:
    """``points`` (n, 3) float64 and ``cells`` (m, 3) triangles wound counter-clockwise seen from outside, or
    (m, 4) positively oriented tetrahedra; ``labels`` (m,) int32 names each cell's region (None: one region)."""

    points: np.ndarray
    cells: np.ndarray
    labels: np.ndarray | None = None

    @property
    def kind(self) -> str:
        return "triangle" if self.cells.shape[1] == 3 else "tetra"

    def boundary(self) -> Geometry:
        """The triangles of the surface: the mesh itself, or the faces of tetrahedra no other one shares."""
        if self.kind == "triangle":
            return self
        t = self.cells
        # Each face wound so that its normal points away from the tetrahedron's opposite corner.
        faces = np.concatenate([t[:, [1, 2, 3]], t[:, [0, 3, 2]], t[:, [0, 1, 3]], t[:, [0, 2, 1]]])
        owner = np.tile(np.arange(len(t)), 4)
        # Each label's tetrahedra have points of their own (see concatenate), so a face between two regions is
        # two faces here, and each region's surface stays closed.
        _, inverse, counts = np.unique(np.sort(faces, axis=1), axis=0, return_inverse=True, return_counts=True)
        keep = counts[inverse.ravel()] == 1
        labels = None if self.labels is None else self.labels[owner][keep]
        return Geometry(self.points, faces[keep].astype(np.int32), labels)

    def region(self, label: int) -> Geometry:
        """The cells of one label (unlabelled), with only the points they use."""
        cells = self.cells if self.labels is None else self.cells[self.labels == label]
        return Geometry(self.points, cells).compact()

    def compact(self) -> Geometry:
        """The same cells over only the points they use."""
        used, inverse = np.unique(self.cells, return_inverse=True)
        return Geometry(self.points[used], inverse.reshape(self.cells.shape).astype(np.int32), self.labels)


def concatenate(parts: list[Geometry]) -> Geometry:
    """One geometry of several, points kept apart (each part's cells index its own points)."""
    offsets = np.cumsum([0] + [len(p.points) for p in parts[:-1]])
    labelled = any(p.labels is not None for p in parts)
    return Geometry(
        np.concatenate([p.points for p in parts]),
        np.concatenate([p.cells + o for p, o in zip(parts, offsets, strict=True)]).astype(np.int32),
        np.concatenate([p.labels if p.labels is not None else np.zeros(len(p.cells), np.int32) for p in parts])
        if labelled
        else None,
    )


def is_closed(surface: Geometry) -> bool:
    """Every edge of every region is shared by exactly two triangles that run it in opposite directions (a closed,
    consistently wound surface), and no region's points are unused."""
    regions = [None] if surface.labels is None else np.unique(surface.labels)
    for label in regions:
        faces = surface.cells if label is None else surface.cells[surface.labels == label]
        if len(faces) == 0:
            return False
        edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]).astype(np.int64)
        n = int(faces.max()) + 1
        forward = np.unique(edges[:, 0] * n + edges[:, 1], return_counts=True)
        if len(forward[0]) != len(edges):  # an edge run twice the same way: inconsistent or non-manifold
            return False
        backward = np.sort(edges[:, 1] * n + edges[:, 0])
        if not np.array_equal(forward[0], backward):
            return False
    return True


# -- isosurfaces -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """Where voxels are in space: physical = ``origin`` + ``direction`` @ (index_xyz * ``spacing_xyz``)."""

    spacing: tuple[float, float, float]  # (z, y, x), as the array's axes
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)  # (x, y, z)
    direction: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)  # row-major, columns = i, j, k

    def to_physical(self, index_zyx: np.ndarray) -> np.ndarray:
        """Points (n, 3) in voxel indices (z, y, x) to physical (x, y, z)."""
        scaled = index_zyx[:, ::-1] * np.asarray(self.spacing[::-1])
        return scaled @ np.asarray(self.direction).reshape(3, 3).T + np.asarray(self.origin)

    def cropped(self, start_zyx: tuple[int, int, int]) -> Frame:
        """The frame of the sub-volume whose first voxel is ``start_zyx``."""
        origin = self.to_physical(np.asarray([start_zyx], dtype=np.float64))[0]
        return Frame(self.spacing, (float(origin[0]), float(origin[1]), float(origin[2])), self.direction)

    @property
    def mirrored(self) -> bool:
        """True when the direction matrix flips handedness (then faces must be wound the other way)."""
        return bool(np.linalg.det(np.asarray(self.direction).reshape(3, 3)) < 0)


def isosurface(volume: np.ndarray, level: float, frame: Frame) -> Geometry:
    """The closed surface where ``volume`` (z, y, x) crosses ``level`` (inside: above it), by one marching-cubes
    call over the volume padded with a layer below ``level``, so that the surface closes at the volume's edge."""
    from skimage.measure import marching_cubes

    from .apart import run_apart

    if not float(volume.min()) < level < float(volume.max()):
        raise ValueError(f"the volume has no surface at level {level:.3g}")
    padded = np.pad(volume, 1, constant_values=min(float(volume.min()), level) - 1.0)
    # Apart: scikit-image holds the GIL for the whole call, which would stop the progress threads.
    vertices, faces = run_apart(lambda: marching_cubes(padded, level=level, allow_degenerate=False)[:2])
    # Reversing the axes (z, y, x) -> (x, y, z) also turns scikit-image's faces outwards.
    points = frame.to_physical(vertices.astype(np.float64) - 1.0)
    faces = faces[:, ::-1] if frame.mirrored else faces
    return Geometry(points, np.ascontiguousarray(faces, dtype=np.int32))
