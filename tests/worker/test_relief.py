"""Height-field solids are watertight, face outwards, and have no sliver: at full resolution, and decimated to a
target (the sheet is decimated alone, retriangulated, and closed again by graded walls and base)."""

from __future__ import annotations

import numpy as np
import pytest

from meshprogress_nb.worker.geometry import Geometry, is_closed
from meshprogress_nb.worker.quality import min_angles
from meshprogress_nb.worker.relief import close_relief, decimate_relief, height_field_solid, relief_sheet
from meshprogress_nb.worker.surfaces import signed_volume

# Degrees. Measured: full resolution 9.4 (walls of the 64 x 200 field) and more; decimated, 3.2 on the top (quadric
# decimation's points, retriangulated) and 3.7 on the walls. The raw grid closed by one-cell walls and a fan, and
# the solid decimated whole, had 0.1.
FULL_FLOOR = 8.0
DECIMATED_FLOOR = 2.0


def relief(height: int, width: int) -> tuple[np.ndarray, tuple[float, float]]:
    """Smooth heights from 0.05 to 0.3 over a grid whose longer side is 1 (as the mesher makes them)."""
    y, x = np.mgrid[0:height, 0:width]
    x, y = x / (width - 1), y / (height - 1)
    d = 0.5 + 0.25 * np.sin(6 * x) * np.cos(5 * y) + 0.2 * np.sin(17 * x * y)
    return 0.05 + 0.25 * (d - d.min()) / (d.max() - d.min()), (1.0, (height - 1) / (width - 1))


def parts(solid: Geometry) -> dict[str, np.ndarray]:
    """Each face's smallest angle, by part: the base (at z = 0), the walls (vertical), the top."""
    corners = solid.points[solid.cells]
    up = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    base = (corners[:, :, 2] == 0).all(axis=1)
    wall = ~base & (np.abs(up[:, 2]) <= 1e-9 * np.linalg.norm(up, axis=1))
    angles = min_angles(solid)
    return {"base": angles[base], "walls": angles[wall], "top": angles[~base & ~wall]}


def volume(z: np.ndarray, extent: tuple[float, float]) -> float:
    """The solid's volume by the trapezoidal rule (exact for the grid's bilinear cells, to within their twist)."""
    return float(np.trapezoid(np.trapezoid(z, dx=extent[0] / (z.shape[1] - 1)), dx=extent[1] / (z.shape[0] - 1)))


@pytest.mark.parametrize("shape", [(96, 128), (64, 200)])
def test_the_full_resolution_solid_has_no_sliver(shape: tuple[int, int]) -> None:
    z, extent = relief(*shape)
    solid = height_field_solid(z, extent)
    assert is_closed(solid)
    assert signed_volume(solid) == pytest.approx(volume(z, extent), rel=1e-3)  # positive: the faces point out
    angles = parts(solid)
    assert len(angles["top"]) == 2 * (shape[0] - 1) * (shape[1] - 1)  # every pixel kept
    assert len(angles["walls"]) and len(angles["base"])
    assert min(a.min() for a in angles.values()) >= FULL_FLOOR


@pytest.mark.parametrize("target", [8000, 4000, 800])
@pytest.mark.parametrize("shape", [(96, 128), (64, 200)])
def test_the_decimated_solid_has_no_sliver(shape: tuple[int, int], target: int) -> None:
    z, extent = relief(*shape)
    solid = decimate_relief(relief_sheet(z, extent), extent, target)
    assert solid is not None and 0.9 * target <= len(solid.cells) <= target
    assert is_closed(solid)
    assert signed_volume(solid) == pytest.approx(volume(z, extent), rel=0.01)
    angles = parts(solid)
    assert min(a.min() for a in angles.values()) >= DECIMATED_FLOOR
    assert (np.concatenate(list(angles.values())) < 10).mean() < 0.05


def test_a_border_too_steep_for_graded_walls_still_closes() -> None:
    """Unsmoothed noise rises by a quarter of the side within a pixel at the border: the walls fall back to one row
    per border edge (with slivers), and the solid is still watertight."""
    z = 0.05 + 0.25 * np.random.default_rng(0).random((40, 50))
    solid = close_relief(relief_sheet(z, (1.0, 39 / 49)), (1.0, 39 / 49))
    assert is_closed(solid) and signed_volume(solid) > 0


def test_heights_at_or_below_the_base_are_refused() -> None:
    with pytest.raises(ValueError, match="above 0"):
        relief_sheet(np.zeros((4, 4)), (1.0, 1.0))
