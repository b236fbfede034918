"""The last state of each mesh this server wrote or read: a hint that spares worker callbacks a store read.

A hint is never trusted to change anything: writes that start from it are compare-and-set on ``version``,
so a stale hint costs one failed write and a re-read, never a lost update. The hub also decides rejections
(401, 409) on the store's word only; see :meth:`.hub.ProgressHub.report`.
"""

from __future__ import annotations

from collections import OrderedDict

from ..models import Mesh

DEFAULT_SIZE = 10_000


class RecentMeshes:
    """A bounded map of mesh id to the newest :class:`Mesh` seen here, least recently used evicted first."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._meshes: OrderedDict[int, Mesh] = OrderedDict()

    def get(self, mesh_id: int) -> Mesh | None:
        mesh = self._meshes.get(mesh_id)
        if mesh is not None:
            self._meshes.move_to_end(mesh_id)
        return mesh

    def remember(self, mesh: Mesh) -> None:
        """Keep ``mesh`` unless it is an older version of the same attempt (a read that raced a write).

        Another attempt always replaces the hint, whatever its version: a retry, or a store that lost its data
        and gave the id to a new mesh.
        """
        known = self._meshes.get(mesh.id)
        if known is not None and known.job_id == mesh.job_id and known.version > mesh.version:
            return
        self._meshes[mesh.id] = mesh
        self._meshes.move_to_end(mesh.id)
        if len(self._meshes) > self.size:
            self._meshes.popitem(last=False)

    def forget(self, mesh_id: int) -> None:
        self._meshes.pop(mesh_id, None)

    def __len__(self) -> int:
        return len(self._meshes)
