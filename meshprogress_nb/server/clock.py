"""The server's one source of time, so that tests about time drive a clock instead of sleeping.

The throttle, the fan-out's coalescing and the stall sweep read time and set timers only through a
:class:`Clock`; in production that is :class:`LoopClock` (the event loop's timers, the system clocks).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds for intervals (never goes back)."""
        ...

    def time(self) -> float:
        """Seconds since the epoch, for timestamps stored with jobs."""
        ...

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Timer: ...

    async def sleep(self, delay: float) -> None: ...


class LoopClock:
    """The running event loop's timers and the system clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Timer:
        return asyncio.get_running_loop().call_later(delay, callback, *args)

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(delay)
