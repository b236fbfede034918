"""One bounded outbox per cable connection: every frame waits here while the connection's socket is backed up.

Broadcasts, replies to ``subscribe`` and ``request_update``, pings and the rest all pass through it, so a client
that stops reading costs the server at most ``outbox_bytes``: frames are keyed, and a newer frame replaces the
older one of its key (a subscription's messages share one key, since the latest payload is all a client needs;
pings share one). A connection over the bound, or that leaves its outbox unread for ``outbox_timeout``, is closed.
"""

from __future__ import annotations

from collections.abc import Hashable

PING = "ping"
"""The key of ping frames: a backed-up client needs only the last one."""


class Outbox:
    """Frames waiting for a backed-up socket, in order, at most one per key, with their total size."""

    __slots__ = ("frames", "size", "since")

    def __init__(self) -> None:
        self.frames: dict[Hashable, bytes] = {}
        self.size = 0
        self.since = 0.0

    def __bool__(self) -> bool:
        return bool(self.frames)

    def put(self, key: Hashable, frame: bytes, now: float) -> int:
        """Hold ``frame`` after the others, replacing the frame held under ``key``; the total size after."""
        older = self.frames.pop(key, None)
        if older is not None:
            self.size -= len(older)
        elif not self.frames:
            self.since = now  # waiting since: a connection that never drains is closed by its age
        self.frames[key] = frame
        self.size += len(frame)
        return self.size

    def take(self) -> list[bytes]:
        """Every frame held, in order, leaving the outbox empty."""
        frames = list(self.frames.values())
        self.frames.clear()
        self.size = 0
        return frames
