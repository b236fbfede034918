"""Graded triangulations of a planar domain under a profile, {0 <= x <= length, 0 <= y <= profile(x)}: a wall of a
height-field solid unrolled, or its base. The boundary's points are kept as given (they are shared with the
neighbouring surfaces); inside, a layer of points one boundary spacing in, then the centres of a quadtree whose cells
grow with the distance from the boundary, none in a circle that guards a boundary edge (so every boundary edge is a
Delaunay edge); a Delaunay triangulation joins them all: no sliver, and few triangles far from the boundary."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

GRADING = 0.7  # how fast the spacing inside grows with the distance from the boundary
NEAREST = 16  # boundary points a spacing is taken from (the boundary's spacing changes slowly along it)

SizeField = Callable[[np.ndarray], np.ndarray]


def size_field(points: np.ndarray, sizes: np.ndarray, grading: float = GRADING) -> SizeField:
    """The wanted spacing at any point: the smallest of ``sizes[j] + grading * distance to points[j]`` over the
    nearest :data:`NEAREST` points, so that the spacing starts from the boundary's own and grows smoothly inside."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points)
    k = min(NEAREST, len(points))

    def field(at: np.ndarray) -> np.ndarray:
        distance, nearest = tree.query(at, k=k)
        return (sizes[nearest].reshape(len(at), k) + grading * distance.reshape(len(at), k)).min(axis=1)

    return field


def loop_sizes(points: np.ndarray) -> np.ndarray:
    """Each point of a closed loop's distance to its nearer neighbour: the spacing the boundary has there."""
    step = np.linalg.norm(np.roll(points, -1, axis=0) - points, axis=1)
    return np.minimum(step, np.roll(step, 1))


def graded_steps(length: float, size: Callable[[float], float]) -> np.ndarray:
    """Positions from 0 to ``length`` (both included) spaced by ``size`` at each one, scaled to end exactly there."""
    positions = [0.0]
    while positions[-1] < length:
        positions.append(positions[-1] + max(size(positions[-1]), 1e-9 * length))
    steps = np.asarray(positions)
    if len(steps) > 2 and (steps[-1] - length) > 0.5 * (steps[-1] - steps[-2]):
        steps = steps[:-1]  # the last step overshot by more than half: one step fewer, stretched
    return steps * (length / steps[-1])


def triangulate_under(profile: np.ndarray, boundary: np.ndarray, field: SizeField) -> tuple[np.ndarray, np.ndarray]:
    """Triangles (counter-clockwise) over ``boundary`` (n, 2) followed by new points inside, returned as (points,
    triangles). ``boundary`` is the domain's loop, counter-clockwise, whose edges are the profile's (x increasing,
    y > 0) and straight ones along x = 0, y = 0 and x = length; ``field`` gives the spacing inside."""
    from scipy.spatial import Delaunay

    inside = _interior_points(profile, boundary, field)
    points = np.concatenate([boundary, inside])
    triangles = Delaunay(points).simplices
    corners = points[triangles]
    centroids = corners.mean(axis=1)
    keep = centroids[:, 1] < np.interp(centroids[:, 0], profile[:, 0], profile[:, 1])
    triangles = triangles[keep]
    u, v = corners[keep, 1] - corners[keep, 0], corners[keep, 2] - corners[keep, 0]
    area = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]
    triangles = np.where((area < 0)[:, None], triangles[:, [0, 2, 1]], triangles)
    _check(triangles, len(boundary), len(inside), np.abs(area).min() if len(area) else 0.0)
    return points, triangles.astype(np.int64)


def _interior_points(profile: np.ndarray, boundary: np.ndarray, field: SizeField) -> np.ndarray:
    """A :func:`_layer` along the boundary, then the centres of a quadtree's leaves (cells no larger than the field
    there) not within 0.6 spacing of it, all inside the domain, kept by :func:`_kept`."""
    length, top = float(profile[-1, 0]), float(profile[:, 1].max())
    side = min(length, top)
    nx, ny = int(np.ceil(length / side)), int(np.ceil(top / side))
    gx, gy = np.meshgrid((np.arange(nx) + 0.5) * side, (np.arange(ny) + 0.5) * side, indexing="ij")
    cells = np.stack([gx.ravel(), gy.ravel()], axis=1)
    leaves = []
    while len(cells):
        small = side <= field(cells)
        leaves.append(cells[small])
        quarter = side / 4
        cells = (cells[~small][:, None, :] + quarter * np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]])).reshape(-1, 2)
        side /= 2
        cells = cells[(cells[:, 0] - side / 2 < length) & (cells[:, 1] - side / 2 < top)]  # the roots overhang
    grid = np.concatenate(leaves)
    guards = _guard_circles(boundary)  # once for both sets of points: each is a dense edges x points pass
    layer = _kept(_inside(_layer(boundary), profile), field, boundary, guards)
    spaced = _spaced(layer, 0.6 * field(layer))
    grid = _kept(_inside(grid, profile), field, boundary, guards)
    if len(spaced) and len(grid):
        from scipy.spatial import cKDTree

        distance, nearest = cKDTree(spaced).query(grid)
        grid = grid[distance > 0.6 * field(spaced[nearest])]
    return np.concatenate([spaced, grid])


def _layer(loop: np.ndarray) -> np.ndarray:
    """A point inside from each point of the counter-clockwise ``loop``, along its inward bisector at 0.8 times
    its shorter edge: the first row of near-equilateral triangles, which also cuts the ears off flat
    corners (three boundary points in a triangle of their own)."""
    step = np.roll(loop, -1, axis=0) - loop
    step /= np.linalg.norm(step, axis=1, keepdims=True)
    inward = np.stack([-step[:, 1], step[:, 0]], axis=1)
    bisector = inward + np.roll(inward, 1, axis=0)
    bisector /= np.maximum(np.linalg.norm(bisector, axis=1, keepdims=True), 1e-12)
    return loop + 0.8 * loop_sizes(loop)[:, None] * bisector


def _inside(points: np.ndarray, profile: np.ndarray) -> np.ndarray:
    x, y = points[:, 0], points[:, 1]
    return points[(x > 0) & (x < profile[-1, 0]) & (y > 0) & (y < np.interp(x, profile[:, 0], profile[:, 1]))]


def _kept(
    points: np.ndarray, field: SizeField, boundary: np.ndarray, guards: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """``points`` at least 0.4 spacing from the boundary, and outside each boundary edge's guard circle (``guards``:
    their centres and radii, from :func:`_guard_circles`). The pairs to test are found by distance first: a point
    is near an edge only within its margin plus the half edge of the edge's middle."""
    from scipy.spatial import cKDTree

    if not len(points):
        return points
    margin = 0.4 * field(points)
    a, b = boundary, np.roll(boundary, -1, axis=0)
    centres, radii = guards
    here = cKDTree(points)
    half = np.linalg.norm(b - a, axis=1) / 2
    near = here.sparse_distance_matrix(cKDTree((a + b) / 2), margin.max() + half.max(), output_type="ndarray")
    p, e = near["i"], near["j"]
    along = np.clip(np.einsum("pk,pk->p", points[p] - a[e], b[e] - a[e]) / (4 * half[e] ** 2), 0, 1)
    gap = np.linalg.norm(points[p] - (a[e] + along[:, None] * (b[e] - a[e])), axis=1)
    keep = np.ones(len(points), bool)
    keep[p[gap <= margin[p]]] = False
    inside = here.sparse_distance_matrix(cKDTree(centres), 1.02 * radii.max(), output_type="ndarray")
    keep[inside["i"][inside["v"] <= 1.02 * radii[inside["j"]]]] = False
    return points[keep]


def _spaced(points: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """``points`` thinned in order: each kept one has no kept one within its ``radius``."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points)
    kept = np.zeros(len(points), bool)
    for i in range(len(points)):
        kept[i] = not kept[tree.query_ball_point(points[i], radius[i])].any()
    return points[kept]


def _circle_range(loop: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each edge's middle, outward normal, half length, and the range (low, high) of t for which the circle through
    its ends centred t along that normal from its middle holds no other loop point (a point outward is inside for t
    above its bound, one inward for t below)."""
    a, b = loop, np.roll(loop, -1, axis=0)
    middle, half = (a + b) / 2, np.linalg.norm(b - a, axis=1) / 2
    direction = (b - a) / (2 * half[:, None])
    outward = np.stack([direction[:, 1], -direction[:, 0]], axis=1)
    offset = loop[None, :, :] - middle[:, None, :]  # (edges, points)
    normal = np.einsum("epk,ek->ep", offset, outward)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = (np.einsum("epk,epk->ep", offset, offset) - half[:, None] ** 2) / (2 * normal)
    ends = np.zeros_like(normal, bool)
    ends[np.arange(len(loop)), np.arange(len(loop))] = True
    ends[np.arange(len(loop)), (np.arange(len(loop)) + 1) % len(loop)] = True
    off_line = (np.abs(normal) > 1e-12 * half[:, None]) & ~ends
    high = np.where(off_line & (normal > 0), bound, np.inf).min(axis=1)
    low = np.where(off_line & (normal < 0), bound, -np.inf).max(axis=1)
    return middle, outward, half, low, high


def unguarded(loop: np.ndarray) -> np.ndarray:
    """Which edges of the counter-clockwise ``loop`` no circle through their ends keeps clear of the loop's other
    points (they are not Delaunay edges, whatever is added inside: they must be split first)."""
    *_, low, high = _circle_range(loop)
    return np.asarray(low >= high)


def _guard_circles(loop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each edge of the counter-clockwise ``loop``, a circle through its ends that holds no other point of the
    loop: with no point inside it either, the edge is a Delaunay edge. Of the circles through the ends (centres on
    the edge's bisector, at t along its outward normal), the one bulging least inwards, up to 4 half edge lengths
    out, within the range :func:`_circle_range` allows."""
    middle, outward, half, low, high = _circle_range(loop)
    if np.any(low >= high):
        raise ValueError("a boundary edge is not a Delaunay edge of the boundary's own points")
    start = np.maximum(low, np.minimum(0.0, high - 4 * half))
    t = np.minimum((start + high) / 2, start + 4 * half)
    return middle + t[:, None] * outward, np.sqrt(half**2 + t**2)


def _check(triangles: np.ndarray, n_boundary: int, n_inside: int, smallest_area: float) -> None:
    """A triangulation of a simple polygon with h boundary and i inner points has h + 2i - 2 triangles, uses every
    boundary edge, and has none flat: anything else means the Delaunay triangulation missed a boundary edge."""
    sides = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    edges = {(int(a), int(b)) for a, b in np.sort(sides, axis=1)}
    ring = np.arange(n_boundary)
    missing = [e for e in zip(ring.tolist(), np.roll(ring, -1).tolist(), strict=True) if tuple(sorted(e)) not in edges]
    if missing or len(triangles) != n_boundary + 2 * n_inside - 2 or smallest_area <= 0:
        raise ValueError(f"the planar triangulation does not conform to its boundary ({len(missing)} edges missing)")
