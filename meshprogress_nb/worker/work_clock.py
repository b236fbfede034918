"""The seconds of work a job has done: the CPU time of this process and of its children (those run apart, while
they run and once they are reaped), which :mod:`.pacing` moves the bar by.

Wall time counts the seconds another process takes the CPU away, which a shared machine does at any moment: a
stage whose estimate is right for the work would then reach its cap early and stand still. CPU time advances
with the work alone, so the bar slows down with it. The CPU time of a running child is read on Linux only (its
process CPU clock); elsewhere the clock is wall time.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_running: set[int] = set()  # the pids of the children computing now

LINUX = sys.platform.startswith("linux")


@contextmanager
def counting(pid: int) -> Iterator[None]:
    """Count child ``pid``'s CPU time while it runs (the caller reaps it before the block ends)."""
    _running.add(pid)
    try:
        yield
    finally:
        _running.discard(pid)


def work_clock() -> Callable[[], float]:
    """A clock of this process's work from now on (any thread may read it)."""
    if not LINUX:
        return time.perf_counter
    return _cpu_seconds


def _cpu_seconds() -> float:
    while True:  # read again if a child was reaped meanwhile: it would be counted in neither sum, or in both
        reaped = _reaped()
        running = sum(map(_child, list(_running)))
        if _reaped() == reaped:
            return time.process_time() + reaped + running


def _reaped() -> float:
    times = os.times()
    return times.children_user + times.children_system


def _child(pid: int) -> float:
    """The CPU seconds of running child ``pid`` (0 once it has been reaped: os.times counts it then)."""
    try:
        return time.clock_gettime(((~pid) << 3) | 2)  # Linux's CPU clock of process pid (CPUCLOCK_SCHED)
    except OSError:
        return 0.0
