"""The quality report of a result: its size, closedness, volume and area in physical units, bounding box, the
worst element's angle, and how far simplification moved the surface. Small and JSON-ready (finite numbers only):
the worker sends it to the hub with the job's completion."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .geometry import Geometry, is_closed
from .surfaces import signed_volume

SMALL_ANGLE = 10.0  # degrees: the fraction of triangles below it is reported
BLOCK = 500  # sampled vertices measured between two progress reports (a few milliseconds)


def quality_report(geometry: Geometry, units: str, simplification: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report of ``geometry`` (whose coordinates are in ``units``); ``simplification`` as
    :func:`simplification_error` measures it."""
    surface = geometry.boundary()
    report: dict[str, Any] = {
        "kind": "tetrahedra" if geometry.kind == "tetra" else "surface",
        "units": units,
        "points": len(geometry.points),
        "cells": len(geometry.cells),
        "regions": 1 if geometry.labels is None else len(np.unique(geometry.labels)),
        "watertight": is_closed(surface),
        "surface_area": _round(triangle_areas(surface).sum()),
        "bounding_box": [[_round(v) for v in geometry.points.min(0)], [_round(v) for v in geometry.points.max(0)]],
    }
    if geometry.kind == "tetra":
        volumes = tetra_volumes(geometry)
        dihedral = min_dihedral_angles(geometry)
        report.update(
            volume=_round(volumes.sum()),
            inverted=int((volumes <= 0).sum()),
            min_dihedral_deg=_round(dihedral.min()),
            mean_min_dihedral_deg=_round(dihedral.mean()),
        )
    else:
        angles = min_angles(surface)
        report.update(
            volume=_round(signed_volume(surface)),
            min_angle_deg=_round(angles.min()),
            small_angle_fraction=_round((angles < SMALL_ANGLE).mean()),
        )
    if simplification:
        report["simplification"] = simplification
    return report


def simplification_error(
    original: Geometry,
    simplified: Geometry,
    method: str,
    samples: int = 20_000,
    progress: Callable[[float], None] = lambda fraction: None,
) -> dict:
    """The distance from (a sample of) ``original``'s vertices to the ``simplified`` surface: mean and max.
    Measured in blocks, each one reported to ``progress``: its numpy calls hold the GIL long enough to keep the
    progress ticker of a short job from running."""
    from scipy.spatial import cKDTree
    from trimesh.triangles import closest_point

    rng = np.random.default_rng(0)
    points = original.points
    if len(points) > samples:
        points = points[rng.choice(len(points), samples, replace=False)]
    triangles = simplified.points[simplified.cells]
    # Exact point-to-triangle distances against the triangles whose centroids are nearest.
    k = min(8, len(triangles))
    tree = cKDTree(triangles.mean(axis=1))
    distances = []
    blocks = max(1, len(points) // BLOCK)
    for index, block in enumerate(np.array_split(points, blocks)):
        _, nearest = tree.query(block, k=k)
        nearest = nearest.reshape(len(block), k)
        repeated = np.repeat(block, k, axis=0)
        found = closest_point(triangles[nearest.ravel()], repeated)
        distances.append(np.linalg.norm(found - repeated, axis=1).reshape(len(block), k).min(axis=1))
        progress((index + 1) / blocks)
    distance = np.concatenate(distances)
    return {
        "method": method,
        "from_faces": len(original.cells),
        "mean_error": _round(distance.mean()),
        "max_error": _round(distance.max()),
    }


def triangle_areas(surface: Geometry) -> np.ndarray:
    a, b, c = (surface.points[surface.cells[:, i]] for i in range(3))
    return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)


def min_angles(surface: Geometry) -> np.ndarray:
    """Each triangle's smallest angle, in degrees."""
    p = surface.points[surface.cells]
    angles = []
    for i in range(3):
        u = p[:, (i + 1) % 3] - p[:, i]
        v = p[:, (i + 2) % 3] - p[:, i]
        cos = np.einsum("ij,ij->i", u, v) / np.maximum(np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1), 1e-300)
        angles.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return np.min(angles, axis=0)


def tetra_volumes(geometry: Geometry) -> np.ndarray:
    """Signed volumes: positive for a positively oriented tetrahedron."""
    a, b, c, d = (geometry.points[geometry.cells[:, i]] for i in range(4))
    return np.einsum("ij,ij->i", b - a, np.cross(c - a, d - a)) / 6.0


def min_dihedral_angles(geometry: Geometry) -> np.ndarray:
    """Each tetrahedron's smallest dihedral angle, in degrees."""
    p = geometry.points[geometry.cells]
    normals = []
    for a, b, c in ((1, 2, 3), (0, 3, 2), (0, 1, 3), (0, 2, 1)):
        n = np.cross(p[:, b] - p[:, a], p[:, c] - p[:, a])
        normals.append(n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300))
    angles = [
        180.0 - np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", normals[i], normals[j]), -1.0, 1.0)))
        for i in range(4)
        for j in range(i + 1, 4)
    ]
    return np.min(angles, axis=0)


def _round(value: float) -> float:
    """Six significant digits keep the report small; non-finite numbers become 0 (JSON has none)."""
    value = float(value)
    return float(f"{value:.6g}") if math.isfinite(value) else 0.0
