"""The preview copy beside every result, for the front end's 3D view: ``<stem>.preview.ply``, binary
little-endian PLY, triangles only (a tetrahedral mesh's boundary), at most :data:`MAX_FACES` faces, and a vertex
property ``label`` when the mesh has labels (each label's surface has vertices of its own)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .geometry import Geometry
from .writers import write_ply

MAX_FACES = 100_000


def preview_path(result: Path) -> Path:
    return result.with_name(f"{result.stem}.preview.ply")


def write_preview(geometry: Geometry, result: str | Path) -> Path:
    """Write the preview of ``geometry`` (the mesh written to ``result``) beside it."""
    from .surfaces import decimate

    surface = geometry.boundary().compact()
    if len(surface.cells) > MAX_FACES:
        surface = decimate(surface, MAX_FACES) or _decimated_anyway(surface)
    return write_ply(surface, preview_path(Path(result)), vertex_labels=surface.labels is not None)


def _decimated_anyway(surface: Geometry) -> Geometry:
    """A preview need not be closed: quadric decimation of the whole surface, labels carried by region."""
    import fast_simplification

    from .geometry import concatenate

    regions = [None] if surface.labels is None else [int(v) for v in np.unique(surface.labels)]
    parts = []
    for label in regions:
        region = surface if label is None else surface.region(label)
        share = max(4, MAX_FACES * len(region.cells) // len(surface.cells))
        points, faces = fast_simplification.simplify(region.points, region.cells, target_count=share)
        parts.append(Geometry(points, faces.astype(np.int32)))
        if label is not None:
            parts[-1].labels = np.full(len(faces), label, np.int32)
    return concatenate(parts) if len(parts) > 1 else parts[0]
