"""Graded planar triangulations keep their boundary as given, use every boundary edge, and make no sliver."""

from __future__ import annotations

import numpy as np
import pytest

from meshprogress_nb.worker.geometry import Geometry
from meshprogress_nb.worker.planar import loop_sizes, size_field, triangulate_under, unguarded
from meshprogress_nb.worker.quality import min_angles


def wall(profile: np.ndarray) -> np.ndarray:
    """The counter-clockwise loop under ``profile``: its bottom corners, then the profile from right to left."""
    return np.concatenate([[[0.0, 0.0], [profile[-1, 0], 0.0]], profile[::-1]])


def test_a_fine_wavy_profile_is_graded_down_to_a_coarse_bottom_without_slivers() -> None:
    x = np.linspace(0.0, 1.0, 200)
    profile = np.stack([x, 0.2 + 0.05 * np.sin(12 * x)], axis=1)
    bottom = np.stack([np.linspace(0.0, 1.0, 11), np.zeros(11)], axis=1)
    right = np.stack([np.ones(3), np.linspace(0.0, profile[-1, 1], 5)[1:-1]], axis=1)
    left = np.stack([np.zeros(3), np.linspace(profile[0, 1], 0.0, 5)[1:-1]], axis=1)
    boundary = np.concatenate([bottom, right, profile[::-1], left])
    points, triangles = triangulate_under(profile, boundary, size_field(profile, np.full(len(profile), 1 / 199)))
    assert np.array_equal(points[: len(boundary)], boundary)  # kept, in order
    edges = {tuple(sorted(e)) for t in triangles.tolist() for e in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0]))}
    assert all(
        (i, (i + 1) % len(boundary)) in edges or ((i + 1) % len(boundary), i) in edges for i in range(len(boundary))
    )
    corners = points[triangles]
    u, v = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    assert (u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0] > 0).all()  # counter-clockwise
    assert np.sum(np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])) / 2 == pytest.approx(np.trapezoid(profile[:, 1], x))
    flat = Geometry(np.column_stack([points, np.zeros(len(points))]), triangles)
    assert min_angles(flat).min() >= 10.0
    assert len(triangles) < 6 * len(profile)  # graded: the spacing grows away from the profile


def test_a_cliff_next_to_a_plateau_is_found_unguarded() -> None:
    """The cliff from a pit up to a plateau has a plateau point inside every circle through its ends that keeps the
    profile's far left out: no point added inside can make it a Delaunay edge, so the caller splits it."""
    cliff = np.array([[0.0, 1.9], [0.5, 1.0], [0.52, 2.0], [0.6, 1.9], [1.0, 1.9]])
    assert unguarded(wall(cliff)).tolist() == [False, False, False, False, True, False, False]
    assert not unguarded(wall(np.array([[0.0, 0.1], [0.5, 0.12], [1.0, 0.1]]))).any()


def test_loop_sizes_are_the_nearer_neighbours_distance() -> None:
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]])
    assert loop_sizes(square).tolist() == [1.0, 0.5, 0.5, 0.5, 1.0]
