"""Triangle meshes as numpy arrays, and the geometry the mesher needs: a closed height-field solid and vertex
clustering. Pure numpy; no mesh library at run time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Mesh:
    """``vertices`` (n, 3) float32 and ``faces`` (m, 3) int32, faces wound counter-clockwise seen from outside."""

    vertices: np.ndarray
    faces: np.ndarray

    def normals(self) -> np.ndarray:
        a, b, c = (self.vertices[self.faces[:, i]] for i in range(3))
        n = np.cross(b - a, c - a)
        length = np.linalg.norm(n, axis=1, keepdims=True)
        return (n / np.where(length == 0, 1, length)).astype(np.float32)


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


def close_height_field(top_vertices: np.ndarray, top_faces: np.ndarray, height: int, width: int) -> Mesh:
    """Add side walls and a bottom at z = 0 to a height-field surface, making a watertight solid."""
    border = ring(height, width)
    n_top, n_ring = len(top_vertices), len(border)
    bottom_ring = top_vertices[border].copy()
    bottom_ring[:, 2] = 0.0
    center = np.array([[top_vertices[:, 0].mean(), top_vertices[:, 1].mean(), 0.0]], dtype=np.float32)
    vertices = np.concatenate([top_vertices, bottom_ring, center]).astype(np.float32)
    a, b = border, np.roll(border, -1)
    a_low = n_top + np.arange(n_ring)
    b_low = np.roll(a_low, -1)
    walls = np.concatenate([np.stack([a, a_low, b_low], 1), np.stack([a, b_low, b], 1)])
    c = np.full(n_ring, n_top + n_ring)
    floor = np.stack([c, b_low, a_low], 1)
    faces = np.concatenate([top_faces, walls, floor]).astype(np.int32)
    return Mesh(vertices, faces)


def cluster_vertices(mesh: Mesh, cell: float) -> Mesh:
    """Vertex clustering: merge the vertices in each ``cell``-sized cube to their mean; drop collapsed faces."""
    keys = np.floor(mesh.vertices / cell).astype(np.int64)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    merged = np.zeros((len(counts), 3), dtype=np.float64)
    np.add.at(merged, inverse, mesh.vertices)
    merged /= counts[:, None]
    faces = inverse[mesh.faces]
    keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    faces = faces[keep]
    _, unique = np.unique(np.sort(faces, axis=1), axis=0, return_index=True)
    faces = faces[np.sort(unique)]
    used, remap = np.unique(faces, return_inverse=True)
    return Mesh(merged[used].astype(np.float32), remap.reshape(-1, 3).astype(np.int32))


def weld(mesh: Mesh, decimals: int = 4) -> Mesh:
    """Merge vertices at the same position (slab seams of marching cubes)."""
    keys = np.round(mesh.vertices, decimals)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    return Mesh(unique.astype(np.float32), inverse.ravel()[mesh.faces].astype(np.int32))
