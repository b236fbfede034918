"""A call run apart returns its result, raises its exception, fails as out of memory when its process is killed,
and as a crash when it dies otherwise."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from meshprogress_nb.worker.apart import run_apart


def test_the_result_comes_back_whole() -> None:
    data = np.arange(3_000_000, dtype=np.float64).reshape(-1, 3)  # 72 MB: many pipe buffers
    result = run_apart(lambda: (data * 2, "done"))
    assert result[1] == "done" and np.array_equal(result[0], data * 2)


def test_an_exception_is_raised_in_the_caller() -> None:
    with pytest.raises(ValueError, match="no surface"):
        run_apart(lambda: (_ for _ in ()).throw(ValueError("no surface at 0.5")))


def test_a_memory_error_in_the_child_is_a_memory_error_here() -> None:
    def too_big() -> np.ndarray:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, hard))  # only in the child
        return np.ones(1 << 31, np.uint8)

    with pytest.raises(MemoryError):
        run_apart(too_big)


def test_a_killed_child_is_out_of_memory() -> None:
    with pytest.raises(MemoryError, match="SIGKILL"):
        run_apart(lambda: os.kill(os.getpid(), signal.SIGKILL))


def test_a_crashed_child_is_a_crash_not_out_of_memory() -> None:
    with pytest.raises(RuntimeError, match="SIGSEGV"):
        run_apart(lambda: os.kill(os.getpid(), signal.SIGSEGV))
    with pytest.raises(RuntimeError, match="exit status 3"):
        run_apart(lambda: os._exit(3))


def test_an_exception_while_waiting_kills_the_child(tmp_path: Path) -> None:
    """The job's time limit is an alarm raising in the waiting parent: the child must not outlive it."""
    pid_file = tmp_path / "child.pid"

    def time_is_up(signum: int, frame: object) -> None:
        if not pid_file.exists():  # a loaded machine: the child has not run yet, so look again a bit later
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            return
        raise TimeoutError("time limit")

    def wait_for_ever() -> None:  # in the child (the alarm is not inherited)
        pid_file.write_text(str(os.getpid()))
        signal.pause()

    previous = signal.signal(signal.SIGALRM, time_is_up)
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    try:
        with pytest.raises(TimeoutError):
            run_apart(wait_for_ever)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    child = int(pid_file.read_text())
    assert not _alive(child), "the child outlived the exception"
    with pytest.raises(ChildProcessError):  # and it was reaped (other tests' children may still run)
        os.waitpid(child, os.WNOHANG)


def test_a_killed_parent_takes_the_child_with_it() -> None:
    """A job process killed outright (past its time limit's grace) must not leave its computation running."""
    script = (
        "import os, signal, sys\n"
        "from meshprogress_nb.worker.apart import run_apart\n"
        "run_apart(lambda: (print(os.getpid(), flush=True), signal.pause()))\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    while _alive(child):
        time.sleep(0.01)  # polls a condition: the test's timeout bounds it


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
