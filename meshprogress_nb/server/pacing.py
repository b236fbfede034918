"""Long loops on the event loop in short slices: one request over thousands of items (a 10,000-source batch)
yields to every other request each few milliseconds instead of holding the loop for seconds."""

from __future__ import annotations

import asyncio
import time

SLICE = 0.002  # seconds of work between two yields: a request needs a few loop turns, each may wait one slice
CHUNK = 32  # items per store write (one SQLite transaction, one Redis pipeline): a few ms, and bounded memory


class Pacer:
    """``await pacer()`` after each item: yields the loop once ``slice`` seconds have passed since the last yield."""

    def __init__(self, slice_seconds: float = SLICE) -> None:
        self.slice = slice_seconds
        self._since = time.perf_counter()

    async def __call__(self) -> None:
        if time.perf_counter() - self._since >= self.slice:
            await asyncio.sleep(0)
            self._since = time.perf_counter()
