"""The seconds of work a job has done: the CPU time of the thread that runs it and of the children it runs apart
(while they run, and once reaped), which :mod:`.pacing` moves the bar by.

Wall time counts the seconds another process takes the CPU away, which a shared machine does at any moment: a
stage whose estimate is right for the work would then reach its cap early and stand still. CPU time advances
with the work alone, so the bar slows down with it. It is the job's thread's own, and its own children's, so
that jobs run side by side in threads of one process do not count each other's work. Linux only (a thread's and
a running child's CPU clocks); elsewhere the clock is wall time.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LINUX = sys.platform.startswith("linux")

_running: dict[int, int] = {}  # thread ident -> the pid of the child it waits for
_reaped: defaultdict[int, float] = defaultdict(float)  # thread ident -> CPU seconds of its children reaped


@contextmanager
def counting(pid: int) -> Iterator[None]:
    """Count child ``pid``'s CPU time as the calling thread's work while it runs (the caller reaps it, and tells
    :func:`reaped` its CPU time, before the block ends)."""
    _running[threading.get_ident()] = pid
    try:
        yield
    finally:
        _running.pop(threading.get_ident(), None)


def reaped(seconds: float) -> None:
    """The CPU seconds of a child the calling thread has just reaped (``os.wait4``'s rusage)."""
    _reaped[threading.get_ident()] += seconds


def work_clock() -> Callable[[], float]:
    """A clock of the calling thread's work (any thread may read it)."""
    if not LINUX:
        return time.perf_counter
    ident = threading.get_ident()
    own = time.pthread_getcpuclockid(ident)

    def seconds() -> float:
        pid = _running.get(ident)
        return time.clock_gettime(own) + _reaped[ident] + (_child(pid) if pid is not None else 0.0)

    return seconds


def _child(pid: int) -> float:
    """The CPU seconds of running child ``pid`` (0 once it has been reaped: :func:`reaped` counts it then)."""
    try:
        return time.clock_gettime(((~pid) << 3) | 2)  # Linux's CPU clock of process pid (CPUCLOCK_SCHED)
    except OSError:
        return 0.0
