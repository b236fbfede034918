"""Jobs waiting for a worker, served round-robin between users: one user's 10,000-job batch does not hold
everyone else's jobs behind it, as one FIFO would."""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    """Per-user FIFO queues; :meth:`pop` takes the next item of each user in turn."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[T]] = {}  # insertion order is the turn order

    def __len__(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    def push(self, user: str, item: T) -> None:
        self._queues.setdefault(user, deque()).append(item)

    def pop(self) -> T | None:
        """The head of the next user's queue, that user then going to the back of the turn order."""
        if not self._queues:
            return None
        user = next(iter(self._queues))
        queue = self._queues.pop(user)
        item = queue.popleft()
        if queue:
            self._queues[user] = queue
        return item
