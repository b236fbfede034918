"""The simplification's error is measured in blocks, each reported: the measurement holds the GIL, so that the
progress ticker of a short job could not report through it otherwise."""

from __future__ import annotations

import pytest
import trimesh

from meshprogress_nb.worker.geometry import Geometry
from meshprogress_nb.worker.quality import BLOCK, simplification_error


def test_the_error_is_measured_in_reported_blocks_and_the_same_as_in_one() -> None:
    fine = trimesh.creation.icosphere(subdivisions=5)  # 10,242 vertices
    coarse = trimesh.creation.icosphere(subdivisions=2)
    full, simplified = Geometry(fine.vertices, fine.faces), Geometry(coarse.vertices, coarse.faces)
    reported: list[float] = []
    error = simplification_error(full, simplified, "quadric", 4000, reported.append)
    assert len(reported) == 4000 // BLOCK and reported == sorted(reported) and reported[-1] == 1.0
    whole = simplification_error(full, simplified, "quadric", 4000)
    assert error == whole and 0 < error["mean_error"] < error["max_error"] < 0.05
    assert error["from_faces"] == len(fine.faces)


@pytest.mark.parametrize("samples", [1, BLOCK - 1])
def test_a_sample_smaller_than_a_block_is_one_block(samples: int) -> None:
    sphere = trimesh.creation.icosphere(subdivisions=3)
    surface = Geometry(sphere.vertices, sphere.faces)
    reported: list[float] = []
    assert simplification_error(surface, surface, "none", samples, reported.append)["max_error"] < 1e-9
    assert reported == [1.0]
