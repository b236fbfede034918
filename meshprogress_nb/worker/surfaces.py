"""Closed surfaces from volumes: one per label of a label map, or one per level of a grey-level image, smoothed
on the image (a Gaussian, isotropic in physical units) and decimated by quadric error metrics."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from .geometry import Frame, Geometry, concatenate, is_closed, isosurface

Progress = Callable[[float], None]
MAX_LABELS = 64


def find_labels(data: np.ndarray) -> list[int] | None:
    """The labels of an integer image with at most :data:`MAX_LABELS` non-zero values, else None (grey levels)."""
    if data.dtype.kind not in "iu":
        return None
    values = np.unique(data[:: max(1, data.shape[0] // 64)])  # a sample of slices first: a CT has thousands
    if len(values) > MAX_LABELS + 1:
        return None
    values = np.unique(data)
    labels = [int(v) for v in values if v != 0]
    return labels if 0 < len(labels) <= MAX_LABELS else None


def sigmas(smooth: float, frame: Frame) -> tuple[float, float, float]:
    """Per-axis Gaussian sigmas (voxels) of ``smooth`` voxels along the finest axis, isotropic in millimetres."""
    finest = min(frame.spacing)
    z, y, x = (smooth * finest / s for s in frame.spacing)
    return z, y, x


def smooth(data: np.ndarray, sigma: tuple[float, float, float], progress: Progress) -> np.ndarray:
    """A Gaussian along each axis in turn (scipy.ndimage, edges replicated), reported per axis: a new float32
    array, or ``data`` itself when it is float32 and no sigma is above 0 (a copy of a large volume costs more in
    page faults than the filters of a small one)."""
    from scipy.ndimage import gaussian_filter1d

    if not any(s > 0 for s in sigma):
        progress(1.0)
        return data.astype(np.float32, copy=False)
    out = data.astype(np.float32, copy=True)
    for axis, s in enumerate(sigma):
        if s > 0 and out.shape[axis] > 1:
            gaussian_filter1d(out, s, axis=axis, mode="nearest", output=out, truncate=3.0)
        progress((axis + 1) / 3)
    return out


def label_surfaces(
    data: np.ndarray, frame: Frame, labels: list[int], sigma: tuple[float, float, float], progress: Progress
) -> Geometry:
    """One closed surface per label: its mask smoothed, cropped to its bounding box, meshed at 0.5."""
    from scipy.ndimage import find_objects

    margin = [math.ceil(3 * s) + 1 for s in sigma]
    boxes = find_objects(data.astype(np.int64) if data.dtype.kind == "u" and data.itemsize == 8 else data)
    parts = []
    for index, label in enumerate(labels):
        box = boxes[label - 1] if 0 < label <= len(boxes) else None
        if box is None:
            raise ValueError(f"label {label} is not in the image")
        start = tuple(max(0, b.start - m) for b, m in zip(box, margin, strict=True))
        stop = tuple(min(n, b.stop + m) for b, n, m in zip(box, data.shape, margin, strict=True))
        window = tuple(slice(a, b) for a, b in zip(start, stop, strict=True))
        mask = (data[window] == label).astype(np.float32)
        if any(sigma):
            mask = smooth(mask, sigma, lambda _: None)
        surface = isosurface(mask, 0.5, frame.cropped(start))
        surface.labels = np.full(len(surface.cells), label, np.int32)
        parts.append(surface)
        progress((index + 1) / len(labels))
    return concatenate(parts)


def level_surfaces(data: np.ndarray, frame: Frame, levels: Sequence[float], progress: Progress) -> Geometry:
    """One closed surface per level (label i + 1 for the i-th level), inside where ``data`` is above it."""
    parts = []
    for index, level in enumerate(levels):
        surface = isosurface(data, level, frame)
        surface.labels = np.full(len(surface.cells), index + 1, np.int32)
        parts.append(surface)
        progress((index + 1) / len(levels))
    return concatenate(parts) if len(parts) > 1 else Geometry(parts[0].points, parts[0].cells)


def surface_faces(data: np.ndarray, level: float) -> int:
    """About how many faces :func:`~.geometry.isosurface` will make, before it runs (to plan its time): a closed
    marching-cubes surface has two faces per vertex, one vertex per grid edge that crosses ``level`` (the padded
    border's included). The edges are counted on every ``step``-th slice, in a few milliseconds for 256^3."""
    step = max(1, round(max(data.shape) / 64))
    rows, columns = data[::step] > level, data[:, ::step] > level
    crossed = (
        np.count_nonzero(rows[:, :, 1:] != rows[:, :, :-1])
        + np.count_nonzero(rows[:, 1:] != rows[:, :-1])
        + np.count_nonzero(columns[1:] != columns[:-1])
    ) * step
    border = sum(
        np.count_nonzero(np.take(data, index, axis) > level) for axis in range(3) for index in (0, data.shape[axis] - 1)
    )
    return 2 * (int(crossed) + int(border))


PASSES = ((7.0, 1.0), (3.0, 2.0))  # fast-simplification's aggressiveness, then a more careful one; relative time


def decimate(surface: Geometry, target: int, again: Callable[[float], None] = lambda relative: None) -> Geometry | None:
    """``surface`` down to at most ``target`` faces by quadric decimation (fast-simplification), each region's
    share proportional to its faces; None when a region would not stay closed (the caller falls back). ``again``
    hears of a second, slower pass before it runs (its time relative to the first), to re-plan the bar."""
    for index, (aggressiveness, relative) in enumerate(PASSES):
        if index:
            again(relative)
        result = _decimate(surface, target, aggressiveness)
        if result is not None:
            return result
    return None


def _decimate(surface: Geometry, target: int, aggressiveness: float) -> Geometry | None:
    import fast_simplification

    from .apart import run_apart

    regions = [None] if surface.labels is None else [int(v) for v in np.unique(surface.labels)]
    parts = []
    for label in regions:
        region = surface if label is None else surface.region(label)
        share = max(20, int(target * len(region.cells) / len(surface.cells)))
        if len(region.cells) <= share:
            parts.append(region)
        else:
            # Apart: fast-simplification holds the GIL for the whole call, which would stop the progress threads.
            simplify = partial(fast_simplification.simplify, target_count=share, agg=aggressiveness)
            points, faces = run_apart(partial(simplify, region.points, region.cells))
            parts.append(Geometry(points, faces.astype(np.int32)))
        if label is not None:
            parts[-1].labels = np.full(len(parts[-1].cells), label, np.int32)
        if not is_closed(parts[-1]) or signed_volume(parts[-1]) <= 0:
            return None
    result = concatenate(parts) if len(parts) > 1 else parts[0]
    return result if len(result.cells) <= target else None


def signed_volume(surface: Geometry) -> float:
    """The volume enclosed by a closed triangle surface: positive when its faces point outwards."""
    a, b, c = (surface.points[surface.cells[:, i]] for i in range(3))
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)
