"""Jobs waiting for a worker, served fairly between users: one user's 10,000-job batch does not hold everyone
else's jobs behind it, as one FIFO would."""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    """Per-user FIFO queues; :meth:`pop` serves the user served longest ago (a newcomer first)."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[T]] = {}
        self._served: dict[str, int] = {}  # user -> tick of their last job; one entry per user ever seen
        self._tick = 0

    def push(self, user: str, item: T) -> None:
        self._queues.setdefault(user, deque()).append(item)

    def pop(self) -> T | None:
        """The next job of the waiting user served longest ago (ties: who queued first)."""
        if not self._queues:
            return None
        user = min(self._queues, key=lambda name: self._served.get(name, -1))
        queue = self._queues[user]
        item = queue.popleft()
        if not queue:
            del self._queues[user]
        self._tick += 1
        self._served[user] = self._tick
        return item
