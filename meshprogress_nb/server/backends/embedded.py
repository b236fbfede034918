"""The zero-set-up backend: state in one SQLite file, fan-out by an in-process broker.

Writes are short synchronous transactions on the server's event loop (WAL mode, no fsync per commit), which
also makes each compare-and-set atomic: nothing else runs on the loop between the read and the write. A new file
starts its ids at the floor of :mod:`.ids`, so a lost file does not give old ids to new jobs.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...models import Batch, Mesh, Status
from ...state import BatchDelta
from ..pacing import CHUNK, Pacer
from ..quotas import NO_QUOTA, CreationWindow, Quota, too_many_active
from ..streams import batch_stream, mesh_stream
from . import ids
from .base import BatchEncoder, MeshSpec, Saved, Subscriber, new_batch, new_mesh
from .codec import batch_dict, batch_from_dict, mesh_dict, mesh_from_dict

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meshes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at REAL NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS meshes_by_user ON meshes (user, id);
CREATE INDEX IF NOT EXISTS meshes_by_status ON meshes (status, updated_at);
CREATE INDEX IF NOT EXISTS meshes_by_user_status ON meshes (user, status);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_by_user ON batches (user, id);
"""


class EmbeddedBackend:
    """SQLite state and in-process publish/subscribe for a single Jupyter server."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._window = CreationWindow()
        self._creating: dict[str, int] = {}
        """Members of batches being written, per user: admitted, not all in the table yet."""

    async def start(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(SCHEMA)
        floor = ids.floor()
        for table in ("meshes", "batches"):  # a new (or lost and recreated) file: ids start above every old one
            db.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)",
                (table, floor, table),
            )
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("EmbeddedBackend used before start()")
        return self._db

    async def create_mesh(self, spec: MeshSpec, now: float, quota: Quota = NO_QUOTA) -> Mesh:
        self._admit(spec.user, 1, now, quota)
        with _transaction(self.db):
            return self._insert_mesh(spec, None, now)

    async def create_batch(
        self, user: str, name: str, specs: list[MeshSpec], now: float, quota: Quota = NO_QUOTA
    ) -> tuple[Batch, list[Mesh]]:
        """Members are written in short transactions, the loop free between them; the batch reads as absent
        (its row's data ``'{}'``) until the last one is in."""
        self._admit(user, len(specs), now, quota)
        self._creating[user] = self._creating.get(user, 0) + len(specs)
        unwritten = len(specs)
        try:
            with _transaction(self.db):
                cursor = self.db.execute("INSERT INTO batches (user, data) VALUES (?, '{}')", (user,))
                batch_id = int(cursor.lastrowid or 0)
            meshes: list[Mesh] = []
            pace = Pacer()
            for start in range(0, len(specs), CHUNK):
                chunk = specs[start : start + CHUNK]
                with _transaction(self.db):
                    meshes.extend([self._insert_mesh(spec, batch_id, now) for spec in chunk])
                self._release(user, len(chunk))  # in the table now, where _admit counts them
                unwritten -= len(chunk)
                await pace()
        finally:
            self._release(user, unwritten)
        batch = new_batch(batch_id, user, name, meshes, now)
        with _transaction(self.db):
            self.db.execute("UPDATE batches SET data = ? WHERE id = ?", (json.dumps(batch_dict(batch)), batch_id))
        return batch, meshes

    def _admit(self, user: str, count: int, now: float, quota: Quota) -> None:
        """Raise QuotaExceeded unless ``user`` may create ``count`` jobs now; count them in the window if so.
        Synchronous, so nothing else runs on the loop between the check and the first write."""
        if quota.max_active:
            (active,) = self.db.execute(
                "SELECT COUNT(*) FROM meshes WHERE user = ? AND status IN ('pending', 'processing')", (user,)
            ).fetchone()
            active += self._creating.get(user, 0)
            if active + count > quota.max_active:
                raise too_many_active(user, active, count, quota.max_active)
        if quota.max_per_minute:
            self._window.admit(user, count, now, quota.max_per_minute)

    def _release(self, user: str, count: int) -> None:
        left = self._creating.get(user, 0) - count
        if left > 0:
            self._creating[user] = left
        else:
            self._creating.pop(user, None)

    def _insert_mesh(self, spec: MeshSpec, batch_id: int | None, now: float) -> Mesh:
        cursor = self.db.execute(
            "INSERT INTO meshes (user, status, updated_at, version, data) VALUES (?, 'pending', ?, 1, '{}')",
            (spec.user, now),
        )
        mesh = new_mesh(int(cursor.lastrowid or 0), spec, batch_id, now)
        self.db.execute("UPDATE meshes SET data = ? WHERE id = ?", (json.dumps(mesh_dict(mesh)), mesh.id))
        return mesh

    async def get_mesh(self, mesh_id: int) -> Mesh | None:
        row = self.db.execute("SELECT data FROM meshes WHERE id = ?", (mesh_id,)).fetchone()
        return mesh_from_dict(json.loads(row[0])) if row else None

    async def get_meshes(self, mesh_ids: list[int]) -> list[Mesh]:
        found = {}
        for start in range(0, len(mesh_ids), 500):
            chunk = mesh_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for mesh_id, data in self.db.execute(f"SELECT id, data FROM meshes WHERE id IN ({marks})", chunk):
                found[mesh_id] = mesh_from_dict(json.loads(data))
        return [found[i] for i in mesh_ids if i in found]

    async def list_meshes(self, user: str, status: Status | None, limit: int, before: int | None = None) -> list[Mesh]:
        below = before if before is not None else 2**62
        if status is None:
            rows = self.db.execute(
                "SELECT data FROM meshes WHERE user = ? AND id < ? ORDER BY id DESC LIMIT ?", (user, below, limit)
            )
        else:
            rows = self.db.execute(
                "SELECT data FROM meshes WHERE user = ? AND status = ? AND id < ? ORDER BY id DESC LIMIT ?",
                (user, status.value, below, limit),
            )
        return [mesh_from_dict(json.loads(data)) for (data,) in rows]

    async def get_batch(self, batch_id: int) -> Batch | None:
        row = self.db.execute("SELECT data FROM batches WHERE id = ? AND data != '{}'", (batch_id,)).fetchone()
        return batch_from_dict(json.loads(row[0])) if row else None

    async def list_batches(self, user: str, limit: int, before: int | None = None) -> list[Batch]:
        below = before if before is not None else 2**62
        rows = self.db.execute(
            "SELECT data FROM batches WHERE user = ? AND data != '{}' AND id < ? ORDER BY id DESC LIMIT ?",
            (user, below, limit),
        )
        return [batch_from_dict(json.loads(data)) for (data,) in rows]

    async def save_mesh(
        self, old: Mesh, new: Mesh, delta: BatchDelta | None, mesh_message: bytes, batch_message: BatchEncoder
    ) -> Saved:
        batch = None
        with _transaction(self.db):
            cursor = self.db.execute(
                "UPDATE meshes SET status = ?, updated_at = ?, version = ?, data = ? WHERE id = ? AND version = ?",
                (new.status.value, new.updated_at, new.version, json.dumps(mesh_dict(new)), new.id, old.version),
            )
            if cursor.rowcount != 1:
                return Saved(False)
            if new.batch_id is not None and delta is not None and not delta.empty:
                batch = self._apply_delta(new.batch_id, delta, new.updated_at)
        self._deliver(mesh_stream(new.id), mesh_message)
        if batch is not None:
            self._deliver(batch_stream(batch.id), batch_message(batch))
        return Saved(True, batch)

    def _apply_delta(self, batch_id: int, delta: BatchDelta, now: float) -> Batch | None:
        row = self.db.execute("SELECT data FROM batches WHERE id = ? AND data != '{}'", (batch_id,)).fetchone()
        if row is None:
            return None
        batch = batch_from_dict(json.loads(row[0]))
        batch.progress_sum += delta.progress
        for status, change in delta.counts.items():
            batch.counts[status] = batch.counts.get(status, 0) + change
        if batch.started_at is None and delta.started_at is not None:
            batch.started_at = delta.started_at
        batch.version += 1
        batch.updated_at = now
        self.db.execute("UPDATE batches SET data = ? WHERE id = ?", (json.dumps(batch_dict(batch)), batch_id))
        return batch

    async def stalled(self, before: float, limit: int) -> list[int]:
        rows = self.db.execute(
            "SELECT id FROM meshes WHERE status = 'processing' AND updated_at < ? LIMIT ?", (before, limit)
        )
        return [mesh_id for (mesh_id,) in rows]

    async def unstarted(self, before: float, limit: int) -> list[int]:
        rows = self.db.execute(
            "SELECT id FROM meshes WHERE status = 'pending' AND updated_at < ? "
            "AND json_extract(data, '$.dispatched') ORDER BY updated_at LIMIT ?",
            (before, limit),
        )
        return [mesh_id for (mesh_id,) in rows]

    async def publish(self, stream: str, message: bytes) -> None:
        self._deliver(stream, message)

    def _deliver(self, stream: str, message: bytes) -> None:
        for subscriber in tuple(self._subscribers.get(stream, ())):
            try:  # one failing subscriber must not starve the others (as with Redis)
                subscriber(message)
            except Exception:
                log.exception("meshprogress: subscriber of %s failed", stream)

    async def subscribe(self, stream: str, subscriber: Subscriber) -> None:
        self._subscribers.setdefault(stream, []).append(subscriber)

    async def unsubscribe(self, stream: str, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(stream, [])
        if subscriber in subscribers:
            subscribers.remove(subscriber)
        if not subscribers:
            self._subscribers.pop(stream, None)

    def on_reconnect(self, callback: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """An in-process broker never loses its subscriptions."""


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error) on an autocommit connection."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
