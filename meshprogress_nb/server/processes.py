"""Several service processes on one port: ``python -m meshprogress_nb.service --processes=N [server options]``.

Every user's workers post to the one service, so one core's worth is not enough. With ``--processes=N`` (N > 1)
the command JupyterHub started becomes a small supervisor (standard library only) that runs N copies of the
service. Each copy binds the service's port with ``SO_REUSEPORT``, so the kernel spreads connections over them,
and holds its own Redis connections; a report accepted by any copy is written to Redis and published there, and
every copy delivers what Redis publishes to its own cable subscribers (the fan-out every server already does).

The supervisor forwards SIGTERM and SIGINT to the copies and waits for them (SIGKILL after
:data:`STOP_GRACE`), restarts a copy that dies after it started, and gives up with its exit status on a copy that
dies while starting (JupyterHub, or Kubernetes, then restarts the whole service). The copies watch a pipe from
the supervisor: if the supervisor dies, even by SIGKILL, the pipe closes and they stop (no orphans).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger(__name__)

PARENT_FD = "MESHPROGRESS_SERVICE_PARENT_FD"
"""The environment variable that tells a copy which file descriptor is its end of the supervisor's pipe."""

STOP_GRACE = 20.0
"""Seconds the copies get to stop after SIGTERM before they are killed (a copy writes pending reports first)."""

STARTING = 15.0
"""A copy that exits within this many seconds of its start failed to start: restarting it would fail again."""

POLL = 0.2
"""Seconds between the supervisor's checks on its copies."""


def split_processes(argv: list[str]) -> tuple[int, list[str]]:
    """``--processes=N`` and the server's own options (everything else, passed on unchanged)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--processes", type=int, default=1)
    known, rest = parser.parse_known_args(argv)
    if known.processes < 1:
        raise SystemExit("--processes must be at least 1")
    return known.processes, rest


def parent_fd() -> int | None:
    """In a copy run by the supervisor, its end of the supervisor's pipe; None in a service run on its own."""
    value = os.environ.get(PARENT_FD)
    return int(value) if value else None


@dataclass
class Supervisor:
    """Runs ``processes`` copies of ``command`` and keeps them running until told to stop."""

    command: list[str]
    processes: int
    starting: float = STARTING
    stop_grace: float = STOP_GRACE
    children: dict[int, tuple[subprocess.Popen[bytes], float]] = field(default_factory=dict)
    stopping: float | None = None
    """When the stop began (monotonic), or None while running."""

    def run(self) -> int:
        """Start the copies and supervise them; the exit status for the supervisor's own process."""
        read_end, self._write_end = os.pipe()  # the write end stays here alone: its close is the parent's death
        self._env = {**os.environ, PARENT_FD: str(read_end)}
        self._read_end = read_end
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        for _ in range(self.processes):
            if self.stopping is None:
                self._spawn()
        status = 0
        while self.children:
            time.sleep(POLL)
            status = self._reap() or status
            if self.stopping is not None and time.monotonic() - self.stopping > self.stop_grace:
                for process, _ in self.children.values():
                    process.kill()
        return status

    def _spawn(self) -> None:
        process = subprocess.Popen(self.command, env=self._env, pass_fds=(self._read_end,))
        self.children[process.pid] = (process, time.monotonic())
        log.info("meshprogress: service process %d started (%d of %d)", process.pid, len(self.children), self.processes)

    def _reap(self) -> int:
        """Collect copies that exited: restart or give up; a nonzero status if the service must end with it."""
        failed = 0
        for pid, (process, started) in list(self.children.items()):
            code = process.poll()
            if code is None:
                continue
            del self.children[pid]
            if self.stopping is not None:
                continue
            if time.monotonic() - started < self.starting:
                log.error("meshprogress: service process %d exited with %d while starting: stopping", pid, code)
                failed = code or 1
                self._stop(None, None)
            else:
                log.warning("meshprogress: service process %d exited with %d: restarting it", pid, code)
                self._spawn()
        return failed

    def _stop(self, signum: int | None, frame: FrameType | None) -> None:
        if self.stopping is None:
            self.stopping = time.monotonic()
        for process, _ in self.children.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)


def run(argv: list[str] | None = None) -> None:
    """The service command: one server in this process, or a supervisor of ``--processes`` servers."""
    processes, rest = split_processes(sys.argv[1:] if argv is None else argv)
    if processes == 1:
        from .service import main

        main(rest, parent=parent_fd())
        return
    logging.basicConfig(level=logging.INFO, format="[%(levelname).1s %(asctime)s %(name)s] %(message)s")
    command = [sys.executable, "-m", "meshprogress_nb.service", *rest]
    sys.exit(Supervisor(command, processes).run())
