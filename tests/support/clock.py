"""A clock that tests move by hand: timers fire in order when :meth:`ManualClock.advance` passes them."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Any


class _Timer:
    def __init__(self, clock: ManualClock, when: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.when, self.callback, self.args = when, callback, args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """Implements ``meshprogress_nb.server.clock.Clock``; time stands still until the test advances it."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self._timers: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> _Timer:
        timer = _Timer(self, self.now + max(0.0, delay), callback, args)
        heapq.heappush(self._timers, (timer.when, next(self._order), timer))
        return timer

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, delay), next(self._order), future))
        await future

    @property
    def pending(self) -> int:
        """Timers and sleepers not yet due (cancelled timers excluded)."""
        return sum(not t.cancelled for _, _, t in self._timers) + len(self._sleepers)

    async def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer and waking every sleeper that falls due, in order."""
        end = self.now + seconds
        for _ in range(3):  # let tasks that are about to sleep or set a timer do so first
            await asyncio.sleep(0)
        while True:
            due = [q for q in (self._timers, self._sleepers) if q and q[0][0] <= end]
            if not due:
                break
            queue = min(due, key=lambda q: q[0][:2])
            when, _, item = heapq.heappop(queue)
            self.now = max(self.now, when)
            if isinstance(item, _Timer):
                if not item.cancelled:
                    item.callback(*item.args)
            elif not item.done():
                item.set_result(None)
            for _ in range(3):  # let what the timer started run before the next one fires
                await asyncio.sleep(0)
        self.now = end
        for _ in range(3):
            await asyncio.sleep(0)
