"""Height-field solids: the relief's sheet (the image's grid, normals up) closed by side walls down to z = 0 and a
flat base. Walls and base are graded triangulations of their planar domains (:mod:`.planar`) built from the sheet's
border, so they have no slivers; decimation simplifies the sheet alone, retriangulates its points and closes it
again, so they have none after it either (decimating the whole solid, one-cell walls and a fan base, kept their
sub-degree faces and added its own on the top)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from .geometry import Geometry
from .planar import SizeField, graded_steps, loop_sizes, size_field, triangulate_under, unguarded

Progress = Callable[[float], None]
# fast-simplification's aggressiveness: careful first (on the benchmark's relief, 3 left a third of the error of the
# default 7, in about twice the time), the default if that fails.
AGGRESSIVENESS = (3.0, 7.0)
FILL = 0.95  # a decimated solid has at least this share of the target's faces (the budget is found in passes)
CLOSING = 15.0  # the walls and base of a decimated solid have about this many faces per square root of the target
PASSES = 4
SPLIT_ROUNDS = 12
NEEDLE = 5.0  # degrees: a decimated sheet's triangles with a smaller angle lose a point of their shortest edge
NEEDLE_ROUNDS = 8
NEEDLE_SHARE = 0.02  # above this share of needles, they come from the slopes, not from the points: all are kept
SIDES = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])  # the border's sides, counter-clockwise


def _ignore(_: float) -> None:
    """The progress callback of work nobody watches."""


def height_field_solid(
    z: np.ndarray, extent: tuple[float, float], progress: Progress = _ignore, blocks: int = 16
) -> Geometry:
    """The watertight solid under the surface ``z`` (rows along y, all above 0): the grid spans ``extent`` = (x, y)
    from the origin, and side walls go down to a flat base at z = 0."""
    return close_relief(relief_sheet(z, extent, progress, blocks), extent)


def height_field_faces(height: int, width: int) -> int:
    """About how many faces the solid over a ``height`` x ``width`` grid has: the top's, and the graded walls' and
    base's, about 6 per border cell (5.2 at 128^2, 5.8 at 512^2)."""
    return 2 * (height - 1) * (width - 1) + 6 * (2 * (height - 1) + 2 * (width - 1))


def relief_sheet(
    z: np.ndarray, extent: tuple[float, float], progress: Progress = _ignore, blocks: int = 16
) -> Geometry:
    """The open top surface of :func:`height_field_solid`, triangulated in row blocks, each reported."""
    height, width = z.shape
    if height < 2 or width < 2:
        raise ValueError("a height field needs at least 2x2 samples")
    if float(z.min()) <= 0:
        raise ValueError("a height field's heights must be above 0 (its base is at z = 0)")
    ys, xs = np.meshgrid(np.linspace(0, extent[1], height), np.linspace(0, extent[0], width), indexing="ij")
    top = np.stack([xs, ys, z.astype(np.float64)], axis=-1).reshape(-1, 3)
    parts = np.array_split(np.arange(height - 1), min(blocks, height - 1))
    faces = []
    for part in parts:
        faces.append(grid_faces(part, width))
        progress(len(faces) / len(parts))
    return Geometry(top, np.concatenate(faces))


def grid_faces(rows: np.ndarray, width: int) -> np.ndarray:
    """The top-surface triangles of grid rows ``rows`` (each row i joins grid rows i and i + 1), normals up."""
    i, j = np.meshgrid(rows, np.arange(width - 1), indexing="ij")
    v00 = (i * width + j).ravel()
    v01, v10 = v00 + 1, v00 + width
    v11 = v10 + 1
    return np.concatenate([np.stack([v00, v01, v11], 1), np.stack([v00, v11, v10], 1)]).astype(np.int32)


def border_loop(faces: np.ndarray) -> np.ndarray:
    """The vertices of a disc's border in the order its faces run it (counter-clockwise seen from their front)."""
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]).astype(np.int64)
    n = int(faces.max()) + 1
    _, first, counts = np.unique(directed.min(axis=1) * n + directed.max(axis=1), return_index=True, return_counts=True)
    border = directed[first[counts == 1]]
    following = np.full(n, -1, np.int64)
    following[border[:, 0]] = border[:, 1]
    if len(np.unique(border[:, 0])) != len(border):
        raise ValueError("the sheet's border touches itself")
    loop = [int(border[0, 0])]
    while len(loop) <= len(border):
        loop.append(int(following[loop[-1]]))
        if loop[-1] == loop[0]:
            break
    if len(loop) != len(border) + 1:
        raise ValueError("the sheet's border is not one loop")
    return np.asarray(loop[:-1])


def close_relief(sheet: Geometry, extent: tuple[float, float]) -> Geometry:
    """``sheet`` (normals up, its border on the rectangle ``extent``, corners included) closed by four walls down
    to z = 0 and a base: graded ones, the sheet's border edges that cannot be wall edges split first, round after
    round; or, if that does not end (unsmoothed noise: a rise of a quarter of the side within a pixel), one row of
    wall per border edge and a fan for the base, with slivers."""
    closing = sheet
    for _ in range(SPLIT_ROUNDS):
        try:
            return _graded_closing(closing, extent)
        except _Unguarded as unguarded_edges:
            closing = _split_border_edges(unguarded_edges.sheet, unguarded_edges.edges)
        except ValueError:
            break
    return _plain_closing(sheet, extent)


class _Unguarded(ValueError):
    """Border ``edges`` of ``sheet`` (as it runs them) that no circle keeps clear of their wall's other points."""

    def __init__(self, sheet: Geometry, edges: np.ndarray) -> None:
        super().__init__(f"{len(edges)} border edges cannot be wall edges")
        self.sheet, self.edges = sheet, edges


def _plain_closing(sheet: Geometry, extent: tuple[float, float]) -> Geometry:
    border = border_loop(sheet.cells)
    n, ring = len(sheet.points), len(border)
    low = sheet.points[border].copy()
    low[:, 2] = 0.0
    centre = np.array([[extent[0] / 2, extent[1] / 2, 0.0]])
    a, b = border, np.roll(border, -1)
    a_low = n + np.arange(ring)
    b_low = np.roll(a_low, -1)
    walls = np.concatenate([np.stack([a, a_low, b_low], 1), np.stack([a, b_low, b], 1)])
    floor = np.stack([np.full(ring, n + ring), b_low, a_low], 1)
    points = np.concatenate([sheet.points, low, centre])
    return Geometry(points, np.concatenate([sheet.cells, walls, floor]).astype(np.int32))


def _graded_closing(sheet: Geometry, extent: tuple[float, float]) -> Geometry:
    """The walls and base as graded triangulations; the points down each corner and along each bottom edge are made
    once, for both sides. ValueError if a wall cannot be made so."""
    points = sheet.points.copy()
    sides = _sides(points, border_loop(sheet.cells), extent)
    lengths = [extent[0], extent[1], extent[0], extent[1]]
    profiles = [
        np.stack([(points[s, :2] - _corner(k, extent)) @ SIDES[k], points[s, 2]], 1) for k, s in enumerate(sides)
    ]
    fields = [size_field(p, _chain_sizes(p)) for p in profiles]
    mesh = _Builder(points, [sheet.cells])
    corners_low = mesh.add(np.array([[*_corner(k, extent), 0.0] for k in range(4)]))
    verticals, bottoms = [], []
    for k in range(4):  # down corner k: the end of wall k - 1 and the start of wall k, spaced for both
        top = float(profiles[k][0, 1])
        ends = (fields[k - 1], lengths[k - 1]), (fields[k], 0.0)
        heights = top - graded_steps(top, partial(_down, ends, top))[1:-1]
        verticals.append(
            (heights, mesh.add(np.column_stack([np.tile(_corner(k, extent), (len(heights), 1)), heights])))
        )
    for k in range(4):
        steps = graded_steps(lengths[k], partial(_along, fields[k]))[1:-1]
        xy = _corner(k, extent) + steps[:, None] * SIDES[k]
        bottoms.append((steps, mesh.add(np.column_stack([xy, np.zeros(len(steps))]))))
    walls = []
    for k in range(4):
        (left_heights, left), (right_heights, right) = verticals[k], verticals[(k + 1) % 4]
        steps, bottom = bottoms[k]
        boundary = np.concatenate(
            [
                [[0.0, 0.0]],
                np.column_stack([steps, np.zeros(len(steps))]),
                [[lengths[k], 0.0]],
                np.column_stack([np.full(len(right_heights), lengths[k]), right_heights[::-1]]),
                profiles[k][::-1],
                np.column_stack([np.zeros(len(left_heights)), left_heights]),
            ]
        )
        ids = np.concatenate([[corners_low[k]], bottom, [corners_low[(k + 1) % 4]], right[::-1], sides[k][::-1], left])
        walls.append((boundary, ids))
    split = [(b, a) for boundary, ids in walls for a, b in _unguarded_pairs(boundary, ids) if max(a, b) < len(points)]
    if split:  # the sheet runs its border the other way round
        raise _Unguarded(Geometry(points, sheet.cells), np.asarray(split))
    for k, (boundary, ids) in enumerate(walls):
        flat, triangles = triangulate_under(profiles[k], boundary, fields[k])
        inner = flat[len(boundary) :]
        ids = np.concatenate(
            [ids, mesh.add(np.column_stack([_corner(k, extent) + inner[:, :1] * SIDES[k], inner[:, 1]]))]
        )
        mesh.faces.append(ids[triangles])  # counter-clockwise in (along the side, up): facing out
    ids = np.concatenate([np.concatenate([[corners_low[k]], bottoms[k][1]]) for k in range(4)])
    loop = mesh.points[ids, :2]
    top_side = mesh.points[np.concatenate([[corners_low[2]], bottoms[2][1], [corners_low[3]]]), :2][::-1]
    flat, triangles = triangulate_under(top_side, loop, size_field(loop, loop_sizes(loop)))
    inner = flat[len(loop) :]
    ids = np.concatenate([ids, mesh.add(np.column_stack([inner, np.zeros(len(inner))]))])
    mesh.faces.append(ids[triangles][:, ::-1])  # counter-clockwise from above, reversed: facing down
    return Geometry(mesh.points, np.concatenate(mesh.faces).astype(np.int32))


def _unguarded_pairs(boundary: np.ndarray, ids: np.ndarray) -> list[tuple[int, int]]:
    """The point ids of the ``boundary``'s edges that :func:`.planar.unguarded` finds."""
    edges = np.flatnonzero(unguarded(boundary))
    return [(int(ids[i]), int(ids[(i + 1) % len(ids)])) for i in edges]


def _split_border_edges(sheet: Geometry, edges: np.ndarray) -> Geometry:
    """``sheet`` with a point in the middle of each of its border ``edges`` (a, b), as its faces run them, and the
    face on each split in two."""
    faces = sheet.cells.astype(np.int64)
    n = len(sheet.points)
    keys = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]) @ np.array([n, 1])
    owner = np.tile(np.arange(len(faces)), 3)
    order = np.argsort(keys)
    at = order[np.searchsorted(keys[order], edges @ np.array([n, 1]))]
    face, corner = owner[at], at // len(faces)  # the face, and which of its edges (corner -> corner + 1)
    middle = n + np.arange(len(edges))
    a, b, c = (faces[face, (corner + i) % 3] for i in range(3))
    kept = np.ones(len(faces), bool)
    kept[face] = False
    halves = np.concatenate([np.stack([a, middle, c], 1), np.stack([middle, b, c], 1)])
    points = np.concatenate([sheet.points, (sheet.points[edges[:, 0]] + sheet.points[edges[:, 1]]) / 2])
    return Geometry(points, np.concatenate([faces[kept], halves]).astype(np.int32))


class _Builder:
    """Points and faces gathered as they are made."""

    def __init__(self, points: np.ndarray, faces: list[np.ndarray]) -> None:
        self.points, self.faces = points, faces

    def add(self, points: np.ndarray) -> np.ndarray:
        """Append ``points``; their indices."""
        start = len(self.points)
        self.points = np.concatenate([self.points, points])
        return np.arange(start, len(self.points))


def _down(ends: Sequence[tuple[SizeField, float]], top: float, depth: float) -> float:
    """The spacing a corner's two walls want ``depth`` below ``top``: the smaller of their fields' there (``ends``:
    each wall's field and the corner's position along its side)."""
    return min(float(field(np.array([[along, top - depth]]))[0]) for field, along in ends)


def _along(field: SizeField, position: float) -> float:
    """The spacing a wall wants on its bottom edge at ``position``."""
    return float(field(np.array([[position, 0.0]]))[0])


def _corner_points(points: np.ndarray, extent: tuple[float, float]) -> np.ndarray:
    """The indices of the points at the rectangle's four corners."""
    return np.array([int(np.linalg.norm(points[:, :2] - _corner(k, extent), axis=1).argmin()) for k in range(4)])


def _corner(k: int, extent: tuple[float, float]) -> np.ndarray:
    return np.array([(0.0, 0.0), (extent[0], 0.0), (extent[0], extent[1]), (0.0, extent[1])][k % 4])


def _chain_sizes(chain: np.ndarray) -> np.ndarray:
    """Each point of an open chain's distance to its nearer neighbour: the spacing the boundary has there."""
    step = np.linalg.norm(np.diff(chain, axis=0), axis=1)
    return np.concatenate([[step[0]], np.minimum(step[:-1], step[1:]), [step[-1]]])


def _sides(points: np.ndarray, loop: np.ndarray, extent: tuple[float, float]) -> list[np.ndarray]:
    """The border loop cut at the rectangle's corners into its four sides (each from corner to corner, both
    included), its points snapped onto them (decimation leaves them off by up to 5 % of their spacing)."""
    xy = points[loop, :2]
    tolerance = 0.1 * np.linalg.norm(np.roll(xy, -1, axis=0) - xy, axis=1).mean()
    at = []
    for k in range(4):
        distance = np.linalg.norm(xy - _corner(k, extent), axis=1)
        if distance.min() > tolerance:
            raise ValueError("the sheet's border lost a corner")
        at.append(int(distance.argmin()))
    loop = np.roll(loop, -at[0])
    at = [(a - at[0]) % len(loop) for a in at] + [len(loop)]
    if at != sorted(at):
        raise ValueError("the sheet's border does not run counter-clockwise")
    sides = []
    for k in range(4):
        side = np.append(loop[at[k] : at[k + 1]], loop[at[k + 1] % len(loop)])
        offset = points[side, :2] - _corner(k, extent)
        along, across = offset @ SIDES[k], offset @ SIDES[(k + 1) % 4]
        if np.abs(across).max() > tolerance or np.any(np.diff(along) <= 0):
            raise ValueError("the sheet's border left the rectangle")
        points[side, :2] = _corner(k, extent) + along[:, None] * SIDES[k]
        sides.append(side)
    return sides


def decimate_relief(sheet: Geometry, extent: tuple[float, float], target: int) -> Geometry | None:
    """The solid of ``sheet`` decimated (quadric error metrics, fast-simplification) and closed again, with
    :data:`FILL` to 1 times ``target`` faces in all; None if that fails (the caller resamples instead)."""
    for aggressiveness in AGGRESSIVENESS:
        try:
            result = _decimate(sheet, extent, target, aggressiveness)
        except ValueError:
            continue
        if result is not None:
            return result
    return None


def _decimate(sheet: Geometry, extent: tuple[float, float], target: int, aggressiveness: float) -> Geometry | None:
    """Only the sheet's points are taken from its decimation (see :func:`_retriangulated`), then it is closed. The
    closing's faces are only known once made, so the decimation is done again with the sheet's share corrected
    when the first guess misses: the best solid within the target is kept."""
    corners = sheet.points[_corner_points(sheet.points, extent)]
    start = sheet  # each pass decimates the sheet itself: decimating a decimated sheet again doubled the error
    aim = (1 + FILL) / 2 * target
    tries: list[tuple[int, int]] = []  # (the sheet's goal, the solid's faces)
    wanted, best = int(target - CLOSING * math.sqrt(target)), None
    for _ in range(PASSES):
        top = _simplified(start, wanted, aggressiveness) if wanted < len(start.cells) else start
        solid = close_relief(_retriangulated(top, corners, extent), extent)
        faces = len(solid.cells)
        if faces <= target and (best is None or faces > len(best.cells)):
            best = solid
        if FILL * target <= faces <= target or (top is start and faces <= target):
            break
        tries.append((wanted, faces))
        # The faces grow with the goal, not in proportion (the closing grows as the border's points): the
        # proportional guess first, then the secant through the last two tries.
        (w0, f0), (w1, f1) = tries[-2:] if len(tries) > 1 else ((0, 0), tries[0])
        slope = (f1 - f0) / (w1 - w0) if w1 != w0 and f1 != f0 else f1 / w1
        wanted = int(min(len(start.cells), max(20, w1 + (aim - f1) / slope)))
    return best


def _simplified(sheet: Geometry, goal: int, aggressiveness: float) -> Geometry:
    """``sheet`` decimated to ``goal`` faces. Its border points collapse only among themselves, to one of them or
    their middle, so they stay on the rectangle's sides, but corners can go (:func:`_retriangulated` puts them
    back)."""
    import fast_simplification

    from .apart import run_apart

    simplify = partial(fast_simplification.simplify, target_count=goal, agg=aggressiveness)
    # Apart: fast-simplification holds the GIL for the whole call, which would stop the progress threads.
    points, faces = run_apart(partial(simplify, sheet.points, sheet.cells))
    if len(faces) > 1.02 * goal and aggressiveness < AGGRESSIVENESS[-1]:
        return _simplified(sheet, goal, AGGRESSIVENESS[-1])  # the careful pass can stop short of small goals
    return Geometry(points, faces.astype(np.int32)).compact()


def _retriangulated(sheet: Geometry, corners: np.ndarray, extent: tuple[float, float]) -> Geometry:
    """The decimated sheet's points joined anew by a Delaunay triangulation of their (x, y), less the points of
    needles, round after round. Quadric decimation leaves its points where they best keep the shape but joins them
    anisotropically, and folds some faces over: 40-60 % of its faces on the benchmark's relief had an angle under
    10 degrees, some under 0.1; the relief is a graph over the rectangle, so any triangulation of the points' (x, y)
    is a valid sheet, and Delaunay's has the largest smallest angle. Its border points are put back on the nearest
    side (the temporary walls keep them within about 5 % of their spacing), and the ``corners`` if it lost any."""
    from scipy.spatial import Delaunay

    from .quality import min_angles

    points = sheet.points.copy()
    edges = np.sort(np.concatenate([sheet.cells[:, [0, 1]], sheet.cells[:, [1, 2]], sheet.cells[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    border = np.zeros(len(points), bool)
    border[unique[counts == 1].ravel()] = True
    points[:, :2] = np.clip(points[:, :2], 0.0, extent)
    gaps = np.stack([points[:, 1], extent[0] - points[:, 0], extent[1] - points[:, 1], points[:, 0]], axis=1)
    side = gaps.argmin(axis=1)
    # Points nearer a side than half the way to their nearest neighbour go onto it too (decimation leaves some a
    # fraction of a pixel from a side, and they would make needles with the side's points).
    from scipy.spatial import cKDTree

    spacing = cKDTree(points[:, :2]).query(points[:, :2], k=2)[0][:, 1]
    border |= gaps.min(axis=1) < 0.5 * spacing
    points[border & (side % 2 == 0), 1] = np.where(side[border & (side % 2 == 0)] == 0, 0.0, extent[1])
    points[border & (side % 2 == 1), 0] = np.where(side[border & (side % 2 == 1)] == 1, extent[0], 0.0)
    _, first = np.unique(points[:, :2], axis=0, return_index=True)
    points = np.concatenate([corners, points[np.sort(first)]])
    near = np.linalg.norm(points[4:, None, :2] - corners[None, :, :2], axis=2).min(axis=1) < 1e-9 * max(extent)
    points = np.concatenate([corners, points[4:][~near]])
    fixed = np.zeros(len(points), bool)
    fixed[:4] = True
    # Points left on the grid are cocircular by the thousand, which makes qhull 2-3 times slower: a wobble far below
    # any spacing (none on the sides, which must stay straight) breaks the ties.
    x, y = points[:, 0], points[:, 1]
    inside = (x > 0) & (x < extent[0]) & (y > 0) & (y < extent[1])
    wobble = np.random.default_rng(0).normal(scale=1e-9 * max(extent), size=(len(points), 2)) * inside[:, None]
    best: Geometry | None = None
    worst, needles = 0.0, len(points)
    for _ in range(NEEDLE_ROUNDS):
        triangles = Delaunay(points[:, :2] + wobble).simplices
        u, v = (points[triangles[:, i], :2] - points[triangles[:, 0], :2] for i in (1, 2))
        triangles = np.where((u[:, 0] * v[:, 1] < u[:, 1] * v[:, 0])[:, None], triangles[:, [0, 2, 1]], triangles)
        candidate = Geometry(points, triangles.astype(np.int32))
        angles = min_angles(candidate)
        if best is None or angles.min() > worst:
            best, worst = candidate, angles.min()
        bad = angles < NEEDLE
        if not bad.any() or bad.sum() > min(0.5 * needles, NEEDLE_SHARE * len(bad)):
            break  # none left; or not going away, or too many to drop their points (slopes of 10 and more)
        needles = bad.sum()
        ends = points[triangles[bad]]
        length = np.linalg.norm(ends - np.roll(ends, -1, axis=1), axis=2)
        shortest = length.argmin(axis=1)
        ends = np.stack([triangles[bad, shortest], triangles[bad, (shortest + 1) % 3]], axis=1)
        drop = np.where(fixed[ends[:, 0]], ends[:, 1], ends[:, 0])
        keep = np.ones(len(points), bool)
        keep[drop[~fixed[drop]]] = False
        points, fixed, wobble = points[keep], fixed[keep], wobble[keep]
    assert best is not None
    return best.compact()  # removing a point can make needles of its neighbours: the best round is kept
