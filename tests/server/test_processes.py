"""The supervisor of ``--processes=N``: it stops its processes on SIGTERM, kills those that do not stop, restarts
one that dies after starting and gives up on one that dies while starting. Its processes here are small Python
programs; tests/jupyterhub/test_service_processes.py runs the real service as two processes under JupyterHub."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from meshprogress_nb.server.processes import split_processes

pytestmark = pytest.mark.slow

SLEEPER = "import time; time.sleep(600)"
DEAF = (
    "import os, pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "pathlib.Path(sys.argv[1], str(os.getpid())).touch(); time.sleep(600)"
)


def supervise(child: str, processes: int = 2, *args: str, **options: float) -> subprocess.Popen[bytes]:
    code = (
        "import sys; from meshprogress_nb.server.processes import Supervisor; "
        f"sys.exit(Supervisor([sys.executable, '-c', {child!r}, *{list(args)!r}], {processes}, **{options!r}).run())"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def children(parent: subprocess.Popen[bytes], count: int, timeout: float = 30.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = psutil.Process(parent.pid).children()
        if len(found) == count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"the supervisor runs {len(psutil.Process(parent.pid).children())}, not {count}")


def test_processes_option_is_taken_out_of_the_server_options() -> None:
    assert split_processes(["--processes=3", "--allow-root", "--MeshProgress.redis_prefix=x"]) == (
        3,
        ["--allow-root", "--MeshProgress.redis_prefix=x"],
    )
    assert split_processes(["--allow-root"]) == (1, ["--allow-root"])
    with pytest.raises(SystemExit):
        split_processes(["--processes=0"])


def test_sigterm_stops_every_process_and_the_supervisor() -> None:
    supervisor = supervise(SLEEPER)
    running = children(supervisor, 2)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(30) == 0
    gone, alive = psutil.wait_procs(running, timeout=10)
    assert not alive


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    supervisor = supervise(DEAF, 2, str(tmp_path), stop_grace=1.0)
    running = children(supervisor, 2)
    deadline = time.monotonic() + 30
    while len(list(tmp_path.iterdir())) < 2:  # both ignore SIGTERM from here on
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(30) == 0
    assert time.monotonic() - started >= 1.0
    gone, alive = psutil.wait_procs(running, timeout=10)
    assert not alive


def test_a_process_that_dies_after_starting_is_replaced() -> None:
    supervisor = supervise(SLEEPER, starting=0.0)
    try:
        first, second = children(supervisor, 2)
        first.kill()
        deadline = time.monotonic() + 30
        while {p.pid for p in psutil.Process(supervisor.pid).children()} in ({second.pid}, {first.pid, second.pid}):
            assert time.monotonic() < deadline, "not replaced"
            time.sleep(0.05)
        replaced = children(supervisor, 2)
        assert second.pid in {p.pid for p in replaced} and first.pid not in {p.pid for p in replaced}
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(30)


def test_a_process_that_dies_while_starting_ends_the_service_with_its_status() -> None:
    supervisor = supervise("import sys; sys.exit(3)", processes=3)
    assert supervisor.wait(30) == 3
