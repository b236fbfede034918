"""The hub's hint of each mesh's last known state: bounded, and never rolled back within an attempt."""

from __future__ import annotations

from meshprogress_nb.models import Mesh
from meshprogress_nb.server.last_known import RecentMeshes


def mesh(mesh_id: int = 1, version: int = 1, job_id: str = "a") -> Mesh:
    return Mesh(id=mesh_id, user="alice", source="x.png", job_id=job_id, version=version)


def test_an_older_version_of_the_same_attempt_does_not_replace_a_newer_one() -> None:
    recent = RecentMeshes()
    recent.remember(mesh(version=5))
    recent.remember(mesh(version=4))  # a read that started before our own write finished
    assert recent.get(1).version == 5
    recent.remember(mesh(version=6))
    assert recent.get(1).version == 6


def test_another_attempt_replaces_the_hint_whatever_its_version() -> None:
    recent = RecentMeshes()
    recent.remember(mesh(version=9, job_id="a"))
    recent.remember(mesh(version=1, job_id="b"))  # the store lost its data and gave id 1 to a new mesh
    assert recent.get(1).job_id == "b"


def test_bounded_least_recently_used_first() -> None:
    recent = RecentMeshes(size=3)
    for i in range(1, 4):
        recent.remember(mesh(i))
    assert recent.get(1) is not None  # 1 is now the most recently used
    recent.remember(mesh(4))
    assert len(recent) == 3 and recent.get(2) is None and recent.get(1) is not None
    recent.forget(1)
    assert recent.get(1) is None
