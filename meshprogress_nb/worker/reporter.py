"""The worker's side of the hub contract: report one job's progress by HTTP callback (standard library only).

A :class:`ProgressReporter` never blocks the computation. ``update()`` only records the latest state in a
one-slot mailbox (a bounded queue that keeps the newest state and drops the ones it replaces); a background
sender thread posts it to the hub, at most once per ``min_interval`` while only the progress or message changes,
and at once for every status change and for the final state. Each callback carries a new, increasing ``seq``
(microseconds since the epoch), so the hub drops replays and stale reports.

Faults: connection errors, timeouts, 408, 429 and 5xx are retried with exponential backoff and jitter (a 503's or
429's ``Retry-After`` is honoured), for at most ``max_retry_seconds`` per report; while the hub is unreachable the
work goes on and a warning is logged. A 401 (wrong, expired or superseded token) stops all reporting and surfaces as
:class:`CallbackAuthError` at the next ``update()``; a 409 (the attempt was cancelled, or ended otherwise) surfaces
as :class:`JobCancelled` at the next ``update()``, stage update or ``track`` step. A completion the hub refuses (422,
e.g. a ``result_url`` it will not link to) is reported as a failure with the hub's reason, so the job never stays
processing.

Stage weights: ``reporter.plan({"load": 1, "mesh": 5})`` declares the stages up front; weights are relative (they
are normalized to 100 %) and the stages are laid end to end in the declared order, whatever order they run in.
Without a plan, ``stage(name, weight)`` takes ``weight`` as a fraction of the whole job (0..1) and stages accumulate
in the order they run: each starts where the previous one ended; ``weight=None`` takes all that is left.
"""

from __future__ import annotations

import atexit
import email.utils
import http.client
import json
import logging
import math
import os
import random
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Generic, TypeVar

from ..links import is_result_link
from .failure import failure_message

log = logging.getLogger("meshprogress.worker")
T = TypeVar("T")

ENV_URL, ENV_JOB_ID, ENV_TOKEN = "MESHPROGRESS_CALLBACK_URL", "MESHPROGRESS_JOB_ID", "MESHPROGRESS_CALLBACK_TOKEN"
MAX_MESSAGE = 2000  # the hub answers 422 to longer messages
MAX_QUALITY = 4096  # and to larger quality reports
RETRYABLE = frozenset({0, 408, 429})  # 0: no HTTP answer at all (connection refused, reset, timeout)

# What became of one report.
_ACCEPTED, _STOPPED, _DROPPED, _GAVE_UP = "accepted", "stopped", "dropped", "gave up"


class JobCancelled(Exception):
    """The hub says this attempt has ended (cancelled, or otherwise terminal): stop working."""


class CallbackAuthError(Exception):
    """The hub refused the callback token (401): it is wrong, expired, or belongs to an older attempt."""


class ProgressReporter:
    """Reports one job's progress to the hub: ``update``, ``stage``, ``track``, ``complete``, ``fail``, ``close``.

    Used as a context manager it reports ``failed`` (with the exception's text) if the body raises, ``completed``
    if it returns without having reported an end itself, and then flushes with :meth:`close`.
    """

    def __init__(
        self,
        callback_url: str,
        job_id: str,
        token: str,
        min_interval: float = 0.2,
        *,
        timeout: float = 10.0,
        max_retry_seconds: float = 300.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 5.0,
    ) -> None:
        """``timeout``: seconds per HTTP request; ``max_retry_seconds``: how long one report is retried before it
        is given up (the next report tries again); ``backoff_initial``/``backoff_max``: the retry pauses."""
        self.callback_url = callback_url
        self.job_id = job_id
        self.token = token
        self.min_interval = min_interval
        self.timeout = timeout
        self.max_retry_seconds = max_retry_seconds
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._cond = threading.Condition()
        self._state: dict[str, Any] = {"progress": 0.0, "message": None, "status": "processing"}
        self._dirty = False  # the mailbox holds a state the hub has not been sent
        self._in_flight = False
        self._seq = 0
        self._sent_status: str | None = None
        self._last_post = -math.inf
        self._last_outcome: str | None = None
        self._ended = False
        self._closing = False
        self._close_deadline = math.inf
        self._cancelled: str | None = None
        self._auth_error = False
        self._unreachable_since: float | None = None
        self._reported_errors: set[int] = set()
        self._thread: threading.Thread | None = None
        self._plan: dict[str, tuple[float, float]] = {}
        self._next_start = 0.0
        self._span = (0.0, 100.0)
        _LIVE.add(self)

    @classmethod
    def from_env(cls, **kwargs: Any) -> ProgressReporter:
        """The reporter of the job this process was started for, from ``MESHPROGRESS_CALLBACK_URL``,
        ``MESHPROGRESS_JOB_ID`` and ``MESHPROGRESS_CALLBACK_TOKEN``; ``kwargs`` go to the constructor."""
        missing = [name for name in (ENV_URL, ENV_JOB_ID, ENV_TOKEN) if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"{', '.join(missing)} not set: this process was not started as a meshprogress job")
        return cls(os.environ[ENV_URL], os.environ[ENV_JOB_ID], os.environ[ENV_TOKEN], **kwargs)

    # -- what the computation calls ---------------------------------------------------------------------------

    def update(self, progress: float, message: str | None = None) -> None:
        """Report overall progress (0..100, never going back) and optionally a message.

        Returns at once. Raises :class:`JobCancelled` once the hub has said the attempt ended, and
        :class:`CallbackAuthError` once it has refused the token.
        """
        progress = float(progress)
        if not math.isfinite(progress):
            raise ValueError(f"progress must be a finite number, not {progress}")
        self._report(progress, message)

    def plan(self, weights: dict[str, float]) -> None:
        """Declare the stages up front, with relative weights proportional to their expected time.

        The weights are normalized to 100 % and laid end to end in the order given: with ``{"load": 1,
        "mesh": 3}``, ``load`` covers 0..25 % and ``mesh`` 25..100 %.
        """
        if not weights or any(w < 0 or not math.isfinite(w) for w in weights.values()):
            raise ValueError("stage weights must be finite and non-negative")
        total = sum(weights.values())
        if total <= 0:
            raise ValueError("stage weights must add up to more than 0")
        start, spans = 0.0, {}
        for name, weight in weights.items():
            share = 100.0 * weight / total
            spans[name] = (start, share)
            start += share
        self._plan = spans

    @contextmanager
    def stage(self, name: str, weight: float | None = None) -> Iterator[Stage]:
        """Work on one stage; ``st.update(fraction, message)`` maps the stage's 0..1 onto its share of 0..100 %.

        With a :meth:`plan`, ``name`` must be one of its stages (``weight`` is then ignored). Without one,
        ``weight`` is the stage's fraction of the whole job, starting where the previous stage ended, and
        ``None`` means all that is left. The stage reports 0 on entry and 1 when its body returns.
        """
        if self._plan:
            if name not in self._plan:
                raise ValueError(f"stage {name!r} is not in the plan ({', '.join(self._plan)})")
            start, share = self._plan[name]
        else:
            if weight is not None and not 0 <= weight <= 1:
                raise ValueError("without a plan, a stage's weight is a fraction of the job, between 0 and 1")
            start = self._next_start
            share = (100.0 - start) if weight is None else min(100.0 * weight, 100.0 - start)
            self._next_start = start + share
        st = Stage(self, name, start, share)
        previous, self._span = self._span, (start, share)
        try:
            st.update(0.0)
            yield st
            st.update(1.0)
        finally:
            self._span = previous

    def track(self, iterable: Iterable[T], total: int | None = None, desc: str | None = None) -> Tracked[T]:
        """``for item in reporter.track(items)``: a tqdm-like wrapper that reports as items are consumed, within
        the current stage (inside ``with reporter.stage(...)``) or over the whole job."""
        start, share = self._span
        return Tracked(self, iterable, total, desc, start, share)

    def complete(
        self, result_url: str | None = None, message: str | None = None, quality: dict[str, Any] | None = None
    ) -> None:
        """Report the job ``completed`` (progress 100), with the URL where its result can be fetched and the
        result's ``quality`` report (a JSON object of at most 4 KiB, finite numbers only; the hub stores it).

        Raises ValueError at once for a ``result_url`` the widgets would not show as a link (the hub refuses it
        with a 422): inside ``with reporter:`` the job is then reported failed with that reason.
        """
        if result_url and not is_result_link(result_url):
            raise ValueError(
                f"result_url {result_url[:80]!r} is neither a same-origin absolute path (not // or /\\) nor an "
                "http(s) URL without backslashes or control characters"
            )
        if quality is not None and len(json.dumps(quality, allow_nan=False)) > MAX_QUALITY:
            raise ValueError(f"the quality report must be at most {MAX_QUALITY} bytes as JSON")
        self._end("completed", message or "Completed", result_url, quality)

    def fail(self, message: str) -> None:
        """Report the job ``failed`` with ``message`` (shown to the user)."""
        self._end("failed", message or "Failed", None)

    def close(self, timeout: float = 30.0) -> bool:
        """Flush the final state, waiting at most ``timeout`` seconds; True if the last state reached the hub.

        The sender stops retrying once ``timeout`` has passed. Reporting after ``close`` starts it again.
        """
        with self._cond:
            self._closing = True
            self._close_deadline = time.monotonic() + timeout
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._cond:
            return not self._dirty and not self._in_flight and self._last_outcome in (None, _ACCEPTED)

    @property
    def cancelled(self) -> bool:
        """True once the hub has answered that this attempt ended (409)."""
        return self._cancelled is not None

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.complete()
        elif not isinstance(exc, JobCancelled | CallbackAuthError):
            self.fail(failure_message(exc))
        self.close()

    # -- the mailbox ------------------------------------------------------------------------------------------

    def _check(self) -> None:
        if self._auth_error:
            raise CallbackAuthError(f"the hub refused the callback token of job {self.job_id}")
        if self._cancelled is not None:
            raise JobCancelled(f"the hub reports job {self.job_id} as {self._cancelled}")

    def _report(self, progress: float | None, message: str | None) -> None:
        self._check()
        with self._cond:
            if self._ended:
                return  # the end is reported; later progress would only be refused
            if progress is not None:
                self._state["progress"] = max(self._state["progress"], min(100.0, max(0.0, progress)))
            if message is not None:
                self._state["message"] = message[:MAX_MESSAGE]
            self._post_state()

    def _end(self, status: str, message: str, result_url: str | None, quality: dict[str, Any] | None = None) -> None:
        with self._cond:
            if self._ended or self._auth_error or self._cancelled is not None:
                return
            self._ended = True
            self._state.update(status=status, message=message[:MAX_MESSAGE])
            if status == "completed":
                self._state["progress"] = 100.0
            if result_url:
                self._state["result_url"] = result_url
            if quality is not None:
                self._state["quality"] = quality
            self._post_state()

    def _post_state(self) -> None:
        """Mark the state for sending and make sure a sender runs (call with the lock held)."""
        self._dirty = True
        if self._closing:
            self._closing, self._close_deadline = False, math.inf
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=f"meshprogress-{self.job_id[:12]}", daemon=True)
            self._thread.start()
        self._cond.notify_all()

    # -- the sender thread ------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._dirty and not self._closing:
                    self._cond.wait()
                if not self._dirty or self._stopped():
                    return
                urgent = self._closing or self._state["status"] != self._sent_status
                wait = self._last_post + self.min_interval - time.monotonic()
                if wait > 0 and not urgent:
                    self._cond.wait(wait)  # later updates replace this state meanwhile: only the newest is sent
                    continue
                body = self._take()
            outcome, status = self._deliver(body)
            with self._cond:
                self._last_outcome = outcome
                self._in_flight = False
                if outcome == _ACCEPTED:
                    self._sent_status = status
                self._cond.notify_all()

    def _stopped(self) -> bool:
        return self._auth_error or self._cancelled is not None

    def _take(self) -> dict[str, Any]:
        """The newest state under a new seq (call with the lock held).

        Seqs are microseconds since the epoch, kept strictly increasing, so a process that reports for the same
        attempt after another one (the dispatcher, when a worker died) is not taken for a replay.
        """
        self._seq = max(self._seq + 1, time.time_ns() // 1000)
        self._dirty = False
        self._in_flight = True
        self._last_post = time.monotonic()
        body = {"job_id": self.job_id, "seq": self._seq, **{k: v for k, v in self._state.items() if v is not None}}
        body["progress"] = round(body["progress"], 3)
        return body

    def _deliver(self, body: dict[str, Any]) -> tuple[str, str]:
        """POST ``body``, retrying transient faults; the outcome and the status of the body last sent."""
        started = time.monotonic()
        attempt = 0
        while True:
            code, answer, retry_after = self._post(body)
            if 200 <= code < 300:
                if self._unreachable_since is not None:
                    log.warning(
                        "meshprogress: job %s reached the hub again after %.0f s",
                        self.job_id,
                        time.monotonic() - self._unreachable_since,
                    )
                    self._unreachable_since = None
                return _ACCEPTED, body["status"]
            if code == 409:
                self._cancelled = str(answer.get("status") or "cancelled")
                log.warning("meshprogress: job %s is %s on the hub; the work should stop", self.job_id, self._cancelled)
                return _STOPPED, body["status"]
            if code == 401:
                self._auth_error = True
                log.error(
                    "meshprogress: the hub refused the callback token of job %s (wrong, expired, or of an older "
                    "attempt); no more reports will be sent",
                    self.job_id,
                )
                return _STOPPED, body["status"]
            if code == 422 and body["status"] == "completed":
                # A refused completion would leave the job processing until the stall sweep blames silence.
                log.error("meshprogress: the hub refused job %s's completion: %s", self.job_id, answer.get("error"))
                with self._cond:
                    refused = f"The hub refused the completion: {answer.get('error', 'HTTP 422')}"
                    self._state.update(status="failed", message=refused[:MAX_MESSAGE])
                    self._state.pop("result_url", None)
                    body = self._take()
                continue
            if code not in RETRYABLE and code < 500:
                if code not in self._reported_errors:  # once per kind: a wrong URL would otherwise log every report
                    self._reported_errors.add(code)
                    log.error(
                        "meshprogress: the hub rejected a report of job %s with %d: %s",
                        self.job_id,
                        code,
                        answer.get("error", ""),
                    )
                return _DROPPED, body["status"]
            now = time.monotonic()
            budget = min(started + self.max_retry_seconds, self._close_deadline) - now
            reason = answer.get("error") or f"HTTP {code}"
            if budget <= 0:
                log.warning(
                    "meshprogress: gave up a report of job %s after %.0f s (%s); the work goes on, the next report "
                    "tries again",
                    self.job_id,
                    now - started,
                    reason,
                )
                return _GAVE_UP, body["status"]
            if self._unreachable_since is None:
                self._unreachable_since = now
                log.warning(
                    "meshprogress: report of job %s not delivered (%s); retrying for up to %.0f s, the work goes on",
                    self.job_id,
                    reason,
                    self.max_retry_seconds,
                )
            backoff = min(self.backoff_max, self.backoff_initial * 2**attempt)
            pause = retry_after if retry_after is not None else random.uniform(backoff / 2, backoff)
            time.sleep(max(0.0, min(pause, budget)))
            attempt += 1
            with self._cond:
                if self._dirty:  # the computation moved on: retry with its newest state
                    body = self._take()

    def _post(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], float | None]:
        """One POST: (HTTP status or 0 without an answer, the JSON answer, Retry-After seconds)."""
        request = urllib.request.Request(
            self.callback_url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-Callback-Token": self.token},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, _json(response.read()), None
        except urllib.error.HTTPError as exc:
            return exc.code, _json(exc.read()), _retry_after(exc.headers.get("Retry-After"))
        except (OSError, http.client.HTTPException) as exc:  # URLError, refused, reset, timeout, bad answer
            return 0, {"error": str(getattr(exc, "reason", exc)) or type(exc).__name__}, None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Stage:
    """One stage's view of the reporter: ``update(fraction)`` with fractions 0..1 of this stage."""

    def __init__(self, reporter: ProgressReporter, name: str, start: float, share: float) -> None:
        self.reporter = reporter
        self.name = name
        self.start = start
        self.share = share

    def update(self, fraction: float, message: str | None = None) -> None:
        """Report that ``fraction`` (0..1) of this stage is done; raises like :meth:`ProgressReporter.update`."""
        fraction = min(1.0, max(0.0, float(fraction)))
        self.reporter.update(self.start + self.share * fraction, message or self.name)

    def track(self, iterable: Iterable[T], total: int | None = None, desc: str | None = None) -> Tracked[T]:
        """Like :meth:`ProgressReporter.track`, over this stage's share."""
        return Tracked(self.reporter, iterable, total, desc or self.name, self.start, self.share)


class Tracked(Generic[T]):
    """An iterable that reports progress as it is consumed: the part of tqdm's interface that progress needs
    (``update``, ``close``, ``set_description``, ``set_postfix_str``, ``n``, ``total``, ``desc``)."""

    def __init__(
        self,
        reporter: ProgressReporter,
        iterable: Iterable[T] | None,
        total: int | None,
        desc: str | None,
        start: float = 0.0,
        share: float = 100.0,
    ) -> None:
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.reporter = reporter
        self.iterable = iterable
        self.total = total
        self.desc = desc
        self.postfix = ""
        self.n = 0.0
        self.start, self.share = start, share

    def __iter__(self) -> Iterator[T]:
        if self.iterable is None:
            raise TypeError("this tracker wraps no iterable; call update(n) instead")
        for item in self.iterable:
            yield item
            self.update(1)

    def __len__(self) -> int:
        return self.total or 0

    def __enter__(self) -> Tracked[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: float = 1) -> None:
        """``n`` more items done (raises :class:`JobCancelled` once the hub has cancelled the job)."""
        self.n += n
        count = f"{self.n:g}/{self.total}" if self.total else f"{self.n:g}"
        message = " ".join(part for part in (self.desc, count, self.postfix) if part)
        progress = self.start + self.share * min(1.0, self.n / self.total) if self.total else None
        self.reporter._report(progress, message)

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        self.desc = desc

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = s

    def refresh(self) -> None:
        """Nothing to redraw: the hub is told at the next update."""

    def close(self) -> None:
        """Nothing to release (tqdm compatibility)."""


_LIVE: weakref.WeakSet[ProgressReporter] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    """A script that reports its end and exits without close() still gets its final state to the hub."""
    for reporter in list(_LIVE):
        if reporter._dirty:
            reporter.close(timeout=5.0)
