"""One long library call run in a forked child, so that it holds the child's GIL and not the reporting process's.

Marching cubes (scikit-image) and fast-simplification keep the GIL for their whole call: in-process, the ticker
and the reporter's thread could not run, and the bar stood still, then jumped. Here the parent waits in
``os.read`` (which releases the GIL) while its threads keep reporting. The child inherits the data by fork (no
copy), computes, writes its pickled result to a pipe and leaves by ``os._exit``: it may have been forked while the
reporter's thread held a lock, so it takes none (no logging, no atexit handlers, no flushed buffers).

The child inherits the job's memory cap (RLIMIT_AS): its ``MemoryError``, or its death by SIGKILL (the OOM
killer's signal), is raised in the parent as ``MemoryError``, the same failure as in-process; any other death (a
crash in the library) as ``RuntimeError`` naming the signal or status. An exception in the parent while it waits (the
job's time limit, an interrupt) kills the child first; a parent killed outright (a job past its grace) takes the
child with it (Linux's parent-death signal), so no orphan computes on.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import TypeVar

from .work_clock import counting, reaped

T = TypeVar("T")

PR_SET_PDEATHSIG = 1
OUT_OF_MEMORY = 75  # the child's exit status when it ran out of memory before it could write a result
CHUNK = 1 << 20


def run_apart(call: Callable[[], T]) -> T:
    """``call()``'s result (it must pickle), computed in a forked child; its exception is raised here."""
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: compute, write, leave
        os.close(read_end)
        _child(call, write_end, parent)
    os.close(write_end)
    try:
        with counting(pid):  # the bar moves by the child's CPU time (work_clock.py)
            data = _read_all(read_end)
            _, status, usage = os.wait4(pid, 0)
            reaped(usage.ru_utime + usage.ru_stime)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(read_end)
    code = os.waitstatus_to_exitcode(status)
    if code == OUT_OF_MEMORY:
        raise MemoryError("out of memory")
    if code == -signal.SIGKILL:  # what the kernel's OOM killer sends
        raise MemoryError("the meshing process was killed (signal SIGKILL), likely out of memory")
    if code != 0:  # a crash in the library (SIGSEGV, ...) or a failure before a whole result was written
        raise RuntimeError(f"the meshing process ended without a result ({_death(code)})")
    ok, value = pickle.loads(data)
    if ok:
        return value
    raise value


def _child(call: Callable[[], object], write_end: int, parent: int) -> None:
    code = 0
    try:
        if sys.platform.startswith("linux"):  # elsewhere (macOS) the job's own limits stop the parent only
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)
        try:
            payload = pickle.dumps((True, call()), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # every failure but memory's goes to the parent as it is
            if isinstance(exc, MemoryError):
                raise
            try:
                payload = pickle.dumps((False, exc))
            except Exception:  # an exception that does not pickle: its message does
                payload = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        view = memoryview(payload)
        while view:
            view = view[os.write(write_end, view[:CHUNK]) :]
    except MemoryError:
        code = OUT_OF_MEMORY
    except BaseException:  # noqa: BLE001 - the parent sees an empty pipe and the status
        code = 1
    os._exit(code)


def _death(code: int) -> str:
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, CHUNK):
        chunks.append(chunk)
    return b"".join(chunks)
