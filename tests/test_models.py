"""The mesh record's copy on every callback: a new object with the changes, the original untouched."""

from __future__ import annotations

import dataclasses

import pytest

from meshprogress_nb.eta import RateState
from meshprogress_nb.models import Mesh, Status


def test_with_rate_copies_like_dataclasses_replace_and_refuses_unknown_fields() -> None:
    mesh = Mesh(id=1, user="alice", source="a.png", job_id="j", params={"k": 1})
    state = RateState(rate=2.0, sampled_at=10.0, sampled_progress=20.0)
    changed = mesh.with_rate(state, status=Status.PROCESSING, progress=20.0)
    assert changed == dataclasses.replace(
        mesh, status=Status.PROCESSING, progress=20.0, rate=2.0, rate_at=10.0, rate_progress=20.0
    )
    assert mesh.status is Status.PENDING and mesh.rate is None  # the original is unchanged
    with pytest.raises(TypeError, match="no field progres"):
        mesh.with_rate(state, progres=20.0)
