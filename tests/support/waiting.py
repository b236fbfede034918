"""Waiting on a condition with a deadline, instead of sleeping a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_until(
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 30.0, every: float = 0.02
) -> T:
    """Read until ``done(value)``; a generous deadline, since the machine may be busy, but never forever."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s; last value: {value!r}")
        await asyncio.sleep(every)
