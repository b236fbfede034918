"""Tetrahedral meshes of each label region's closed surface, by fTetWild (the ``wildmeshing`` wheel): robust to
the small self-intersections a decimated surface may have, and a wheel, where CGAL-based meshers need a build."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from .geometry import Geometry, concatenate

# Measured on a decimated 16^3 block (300 faces): fTetWild's defaults (envelope 1e-3, edge 0.05, 80 passes) took
# 112 s for a min dihedral of 8.9 degrees; envelope 1e-2 with 20 passes about 10 s for 12.5 degrees.
EDGE_LENGTH = 0.05  # target edge length, as a fraction of each region's bounding-box diagonal
ENVELOPE = 1e-2  # how far the boundary may move from the surface, as a fraction of the diagonal
MAX_ITERATIONS = 20  # optimisation passes


def tetrahedralize(surface: Geometry, progress: Callable[[float], None], edge_length: float = EDGE_LENGTH) -> Geometry:
    """One tetrahedral mesh per region of ``surface`` (closed triangle surfaces), labelled like its region."""
    import wildmeshing

    regions = [None] if surface.labels is None else [int(v) for v in np.unique(surface.labels)]
    weights = np.array([len(surface.cells if r is None else surface.cells[surface.labels == r]) for r in regions])
    done = 0.0
    parts = []
    for label in regions:
        region = surface if label is None else surface.region(label)
        with _scratch_directory():
            mesher = wildmeshing.Tetrahedralizer(
                stop_quality=10, max_its=MAX_ITERATIONS, epsilon=ENVELOPE, edge_length_r=edge_length
            )
            mesher.set_log_level(6)  # errors only
            mesher.set_mesh(np.asarray(region.points, np.float64), np.asarray(region.cells, np.int32))
            mesher.tetrahedralize()
            points, tets = mesher.get_tet_mesh()[:2]
        part = _oriented(Geometry(np.asarray(points, np.float64), np.asarray(tets, np.int32)))
        if label is not None:
            part.labels = np.full(len(part.cells), label, np.int32)
        parts.append(part)
        done += len(region.cells) / weights.sum()
        progress(done)
    return concatenate(parts) if len(parts) > 1 else parts[0]


def _oriented(mesh: Geometry) -> Geometry:
    """Positive volumes throughout (fTetWild's convention is the opposite one)."""
    from .quality import tetra_volumes

    cells = mesh.cells.copy()
    negative = tetra_volumes(mesh) < 0
    cells[negative] = cells[negative][:, [1, 0, 2, 3]]
    return Geometry(mesh.points, cells, mesh.labels)


@contextmanager
def _scratch_directory() -> Iterator[None]:
    """fTetWild writes ``__tracked_surface.stl`` into the working directory: give it a scratch one meanwhile (the
    mesher runs one job per process, so changing the process's directory for the call is safe)."""
    previous = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="meshprogress-ftetwild-") as scratch:
        os.chdir(scratch)
        try:
            yield
        finally:
            os.chdir(previous)
