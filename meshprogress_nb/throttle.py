"""A per-job write budget for worker callbacks that never loses the latest state.

A worker may post thousands of reports a second. Past ``rate`` writes per second, a job's reports are merged
into one pending report (latest progress, message, seq) that is written at the job's next slot; status changes
are written at once, after whatever was pending. The store sees a bounded write rate; subscribers still end on
the worker's last word.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

from .backends import BackendUnavailable
from .state import Report

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
    )


def _latest(a, b, pick):  # noqa: ANN001, ANN202 - numbers or None
    if a is None:
        return b
    if b is None:
        return a
    return pick(a, b)


class CallbackThrottle:
    """Admits at most ``rate`` writes per second per job; merges the rest into a pending report."""

    def __init__(self, rate: float, apply: Apply) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.apply = apply
        self._last_write: dict[Key, float] = {}
        self._pending: dict[Key, Report] = {}
        self._timers: dict[Key, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[object]] = set()

    def admit(self, key: Key, report: Report) -> Report | None:
        """The report to write now, or None if it was merged into the job's pending report."""
        now = time.monotonic()
        pending = self._pending.pop(key, None)
        if pending is not None:
            report = merge(pending, report)
        if report.status is None or report.status.value == "processing":
            wait = self._last_write.get(key, -1e9) + self.interval - now
            if wait > 0:
                self._pending[key] = report
                if key not in self._timers:
                    self._timers[key] = asyncio.get_running_loop().call_later(wait, self._flush, key)
                return None
        self._cancel_timer(key)
        self._last_write[key] = now
        if report.status is not None and report.status.value != "processing":
            self._last_write.pop(key, None)  # the attempt ends: nothing more to budget
        return report

    def _flush(self, key: Key) -> None:
        self._timers.pop(key, None)
        report = self._pending.pop(key, None)
        if report is None:
            return
        self._last_write[key] = time.monotonic()
        task = asyncio.ensure_future(self._apply(key, report))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _apply(self, key: Key, report: Report) -> None:
        try:
            await self.apply(key, report)
        except BackendUnavailable:
            # The worker was told 202: keep the report (merged with anything newer) until the store is back.
            newer = self._pending.pop(key, None)
            self._pending[key] = merge(report, newer) if newer else report
            if key not in self._timers:
                self._timers[key] = asyncio.get_running_loop().call_later(RETRY_AFTER, self._flush, key)
        except Exception as exc:  # the attempt ended meanwhile: the worker's next report gets the 409
            log.info("meshprogress: deferred report of mesh %d dropped: %s", key[0], exc)

    def _cancel_timer(self, key: Key) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def forget_idle(self, older_than: float) -> None:
        """Drop budgets of jobs that have not written for ``older_than`` seconds (bounded memory)."""
        cutoff = time.monotonic() - older_than
        for key in [j for j, t in self._last_write.items() if t < cutoff and j not in self._pending]:
            del self._last_write[key]
