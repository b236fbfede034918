"""A per-job write budget for worker callbacks that never loses the latest state.

A worker may post thousands of reports a second. A job gets at most ``rate`` writes per second and at most one
write in flight; reports arriving past that are merged into one pending report (latest progress, message,
seq) that is written at the job's next slot. Status changes are written at once, with whatever was pending.
The store sees a bounded write rate and no self-inflicted compare-and-set races; subscribers still end on the
worker's last word.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable

from ..models import Status
from ..state import Report
from .backends import BackendUnavailable
from .clock import Clock, Timer

log = logging.getLogger(__name__)

Key = tuple[int, str]
"""(mesh id, job id): one attempt of one mesh."""

Apply = Callable[[Key, Report], Awaitable[object]]
RETRY_AFTER = 1.0


def merge(older: Report, newer: Report) -> Report:
    """One report saying what both said, the newer winning field by field."""
    return dataclasses.replace(
        newer,
        progress=_latest(older.progress, newer.progress, max),
        message=newer.message if newer.message is not None else older.message,
        status=newer.status or older.status,
        seq=_latest(older.seq, newer.seq, max),
        result_url=newer.result_url or older.result_url,
        quality=newer.quality or older.quality,
    )


def _progress_only(report: Report) -> bool:
    return report.status is None or report.status is Status.PROCESSING


def _latest(a, b, pick):  # noqa: ANN001, ANN202 - numbers or None
    if a is None:
        return b
    if b is None:
        return a
    return pick(a, b)


class CallbackThrottle:
    """Writes a job's reports through ``apply`` within its budget; merges the rest into a pending report."""

    def __init__(self, rate: float, apply: Apply, clock: Clock) -> None:
        self.clock = clock
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.apply = apply
        self._last_write: dict[Key, float] = {}
        self._writing: dict[Key, int] = {}  # writes in flight per job (a status change may join one)
        self._pending: dict[Key, Report] = {}
        self._timers: dict[Key, Timer] = {}
        self._tasks: set[asyncio.Task[object]] = set()

    async def submit(self, key: Key, report: Report) -> object | None:
        """Write ``report`` now and return what ``apply`` returned, or None if it was merged for later."""
        pending = self._pending.pop(key, None)
        if pending is not None:
            report = merge(pending, report)
        if _progress_only(report) and (key in self._writing or self._wait(key) > 0):
            self._pending[key] = report
            self._schedule(key)
            return None
        self._cancel_timer(key)
        return await self._write(key, report)

    async def _write(self, key: Key, report: Report) -> object:
        self._last_write[key] = self.clock.monotonic()
        self._writing[key] = self._writing.get(key, 0) + 1
        try:
            return await self.apply(key, report)
        finally:
            if self._writing[key] == 1:
                del self._writing[key]
            else:
                self._writing[key] -= 1
            if not _progress_only(report):
                self._last_write.pop(key, None)  # the attempt ends: nothing more to budget
            if key in self._pending:
                self._schedule(key)

    def _wait(self, key: Key) -> float:
        return self._last_write.get(key, -1e9) + self.interval - self.clock.monotonic()

    def _schedule(self, key: Key, delay: float | None = None) -> None:
        """Flush the pending report at the job's next slot; a write in flight schedules it when it ends."""
        if delay is None:
            if key in self._writing or key in self._timers:
                return
            delay = max(0.0, self._wait(key))
        self._cancel_timer(key)
        self._timers[key] = self.clock.call_later(delay, self._flush, key)

    def _flush(self, key: Key) -> None:
        self._timers.pop(key, None)
        report = self._pending.pop(key, None)
        if report is None:
            return
        task = asyncio.ensure_future(self._write_later(key, report))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write_later(self, key: Key, report: Report) -> None:
        try:
            await self._write(key, report)
        except BackendUnavailable:
            # The worker was told 202: keep the report (merged with anything newer) until the store is back.
            newer = self._pending.pop(key, None)
            self._pending[key] = merge(report, newer) if newer else report
            self._schedule(key, delay=RETRY_AFTER)
        except Exception as exc:  # the attempt ended meanwhile: the worker's next report gets the 409
            log.info("meshprogress: deferred report of mesh %d dropped: %s", key[0], exc)

    def _cancel_timer(self, key: Key) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    async def close(self) -> None:
        """Write every merged report now (its worker was told 202) and wait for the writes in flight."""
        for key in list(self._timers):
            self._cancel_timer(key)
        for key in list(self._pending):
            self._flush(key)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for key in list(self._timers):  # a write that found the store down would retry: it is closing too
            self._cancel_timer(key)

    def forget_idle(self, older_than: float) -> None:
        """Drop budgets of jobs that have not written for ``older_than`` seconds (bounded memory)."""
        cutoff = self.clock.monotonic() - older_than
        busy = self._pending.keys() | self._writing.keys()
        for key in [k for k, t in self._last_write.items() if t < cutoff and k not in busy]:
            del self._last_write[key]
