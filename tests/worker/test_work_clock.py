"""The work clock counts CPU time: the job's thread's, its child's run apart while it runs, and the child's once
reaped; time spent waiting for the CPU or sleeping is not work, nor is another thread's."""

from __future__ import annotations

import threading
import time

import pytest

from meshprogress_nb.worker import work_clock
from meshprogress_nb.worker.apart import run_apart

pytestmark = pytest.mark.skipif(not work_clock.LINUX, reason="a running child's CPU time is read on Linux only")


def spin(seconds: float) -> float:
    """Burn ``seconds`` of this process's CPU time, however long that takes on a loaded machine."""
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return seconds


def test_sleeping_is_not_work_nor_is_another_threads_or_its_child() -> None:
    clock = work_clock.work_clock()
    before = clock()
    time.sleep(0.05)  # what is measured: a sleep is not work, however long
    other = threading.Thread(target=lambda: (spin(0.1), run_apart(lambda: spin(0.1))))
    other.start()
    other.join()
    assert clock() - before < 0.03


def test_a_child_apart_counts_while_it_runs_and_once_reaped() -> None:
    clock = work_clock.work_clock()
    before = clock()
    seen: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.005):
            seen.append(clock() - before)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert run_apart(lambda: spin(0.3)) == 0.3
    finally:
        stop.set()
        watcher.join()
    assert clock() - before >= 0.3  # the reaped child's CPU time
    assert any(0.05 < s < 0.3 for s in seen)  # counted while it ran, not only at its end
    # Never back by more than the reaped child's rounding to the kernel's ticks (0.01 s a field).
    assert all(b > a - 0.03 for a, b in zip(seen, seen[1:], strict=False))
