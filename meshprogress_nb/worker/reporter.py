"""The workers' reporting SDK: progress callbacks to the hub, coalesced, retried, never blocking the work.

Standard library only, so a worker on a cluster node needs no Jupyter. The computation calls ``update()``; a
background thread sends the latest state at most once per ``min_interval`` (every status change at once), with a
``seq`` so the hub drops duplicates and reorders, and retries network faults with backoff and jitter. A 409 from
the hub (the job was cancelled) surfaces as :class:`JobCancelled` at the next ``update()``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

log = logging.getLogger("meshprogress.worker")
T = TypeVar("T")


class JobCancelled(Exception):
    """The hub says this attempt has ended (cancelled, or otherwise terminal): stop working."""


class CallbackAuthError(Exception):
    """The hub refused the callback token (401): it is wrong, expired, or belongs to an older attempt."""


class ProgressReporter:
    """Reports one job's progress to the hub: ``update``, ``stage``, ``track``, ``complete``, ``fail``.

    Used as a context manager it reports ``failed`` (with the exception's text) if the body raises and
    ``completed`` if it returns without having reported an end itself.
    """

    def __init__(
        self,
        callback_url: str,
        job_id: str,
        token: str,
        *,
        min_interval: float = 0.2,
        timeout: float = 10.0,
        max_retry_seconds: float = 300.0,
    ) -> None:
        self.callback_url = callback_url
        self.job_id = job_id
        self.token = token
        self.min_interval = min_interval
        self.timeout = timeout
        self.max_retry_seconds = max_retry_seconds
        self._lock = threading.Condition()
        self._state: dict[str, Any] = {"progress": 0.0, "message": None, "status": "processing"}
        self._dirty = False
        self._status_changed = False
        self._seq = 0
        self._sent_status: str | None = None
        self._last_sent = 0.0
        self._ended = False
        self._closed = False
        self._cancelled: str | None = None
        self._auth_error = False
        self._lost = False
        self._plan: dict[str, float] = {}
        self._stage_span: tuple[float, float] = (0.0, 100.0)
        self._thread = threading.Thread(target=self._run, name=f"meshprogress-reporter-{job_id[:8]}", daemon=True)
        self._thread.start()

    @classmethod
    def from_env(cls, **kwargs: Any) -> ProgressReporter:
        """The reporter of the job the dispatcher started this process for."""
        try:
            return cls(
                os.environ["MESHPROGRESS_CALLBACK_URL"],
                os.environ["MESHPROGRESS_JOB_ID"],
                os.environ["MESHPROGRESS_CALLBACK_TOKEN"],
                **kwargs,
            )
        except KeyError as exc:
            missing = exc.args[0]
            raise RuntimeError(f"{missing} is not set: this process was not started as a meshprogress job") from None

    # -- what the computation calls ---------------------------------------------------------------------------

    def update(self, progress: float, message: str | None = None) -> None:
        """Report overall progress (0..100). Raises JobCancelled once the hub has said the job ended."""
        self._check()
        with self._lock:
            self._state["progress"] = max(self._state["progress"], min(100.0, max(0.0, float(progress))))
            if message is not None:
                self._state["message"] = message
            self._dirty = True
            self._lock.notify()

    def plan(self, weights: dict[str, float]) -> None:
        """Declare the stages up front, with weights proportional to their expected time."""
        total = sum(weights.values())
        if total <= 0:
            raise ValueError("stage weights must add up to more than 0")
        self._plan = {name: weight / total for name, weight in weights.items()}

    @contextmanager
    def stage(self, name: str, weight: float | None = None) -> Iterator[Stage]:
        """Work on one stage: ``st.update(fraction)`` maps the stage's 0..1 onto its share of 0..100 %.

        Stages named in :meth:`plan` take their declared share in declared order; a stage not in the plan takes
        ``weight`` (a fraction of the whole, default: what is left) after the stages before it.
        """
        start = self._state["progress"]
        if name in self._plan:
            names = list(self._plan)
            start = 100.0 * sum(self._plan[n] for n in names[: names.index(name)])
            share = 100.0 * self._plan[name]
        else:
            share = (100.0 - start) * (1.0 if weight is None else weight)
        previous = self._stage_span
        self._stage_span = (start, share)
        stage = Stage(self, name, start, share)
        stage.update(0.0)
        try:
            yield stage
        finally:
            self._stage_span = previous
        stage.update(1.0)

    def track(self, iterable: Iterable[T], total: int | None = None, desc: str | None = None) -> Tracked[T]:
        """``for x in reporter.track(items)``: like tqdm, within the current stage (or the whole job)."""
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        return Tracked(self, iterable, total, desc)

    def complete(self, result_url: str | None = None, message: str | None = None) -> None:
        self._end("completed", message or "Completed", result_url=result_url)

    def fail(self, message: str) -> None:
        self._end("failed", message[:2000])

    def close(self, timeout: float = 30.0) -> bool:
        """Send what is pending (waiting at most ``timeout`` s); True if everything reached the hub."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closed = True
            self._lock.notify()
            while self._dirty and not self._auth_error and time.monotonic() < deadline:
                self._lock.wait(max(0.0, deadline - time.monotonic()))
            delivered = not self._dirty and not self._lost
        self._thread.join(max(0.0, deadline - time.monotonic()))
        return delivered

    @property
    def cancelled(self) -> bool:
        return self._cancelled is not None

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None and not isinstance(exc, JobCancelled | CallbackAuthError) and not self._ended:
            self.fail(f"{type(exc).__name__}: {exc}")
        elif exc is None and not self._ended:
            self.complete()
        self.close()

    # -- internals --------------------------------------------------------------------------------------------

    def _check(self) -> None:
        if self._auth_error:
            raise CallbackAuthError("the hub refused this job's callback token")
        if self._cancelled is not None:
            raise JobCancelled(f"the hub reports this job as {self._cancelled}")

    def _end(self, status: str, message: str, result_url: str | None = None) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
            self._state.update(status=status, message=message)
            if status == "completed":
                self._state["progress"] = 100.0
            if result_url:
                self._state["result_url"] = result_url
            self._dirty = True
            self._lock.notify()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._dirty and not self._closed:
                    self._lock.wait()
                if not self._dirty:
                    return
                status_change = self._state["status"] != self._sent_status
                wait = self._last_sent + self.min_interval - time.monotonic()
                if wait > 0 and not status_change and not self._closed:
                    self._lock.wait(wait)  # more updates may arrive meanwhile: we send only the latest
                    continue
                body = self._next_body()
            delivered = self._deliver(body)
            with self._lock:
                self._last_sent = time.monotonic()
                if delivered:
                    self._sent_status = body["status"]
                else:
                    self._lost = True
                self._lock.notify_all()
                if self._auth_error or (self._ended and not self._dirty and self._closed):
                    return

    def _deliver(self, body: dict[str, Any]) -> bool:
        """POST with retries; True once the hub has answered for good (accepted, cancelled or refused)."""
        started = time.monotonic()
        delay = 0.5
        while True:
            try:
                status, answer, retry_after = self._post(body)
            except OSError as exc:
                status, answer, retry_after = 0, {"error": str(exc)}, None
            if status == 202:
                return True
            if status == 409:
                self._cancelled = str(answer.get("status", "cancelled"))
                log.warning("meshprogress: job %s is %s on the hub; stopping", self.job_id, self._cancelled)
                return True
            if status == 401:
                self._auth_error = True
                log.error("meshprogress: the hub refused the callback token of job %s; no more reports", self.job_id)
                return False
            if status in (400, 413, 422):
                log.error("meshprogress: the hub rejected a report of job %s: %s", self.job_id, answer.get("error"))
                return True
            if time.monotonic() - started > self.max_retry_seconds:
                log.error(
                    "meshprogress: hub unreachable for %.0f s; report of job %s dropped, the work goes on",
                    self.max_retry_seconds,
                    self.job_id,
                )
                return False
            pause = retry_after if retry_after is not None else delay * (0.5 + random.random())
            log.info(
                "meshprogress: report of job %s not delivered (%s); retrying in %.1f s",
                self.job_id,
                status or answer.get("error"),
                pause,
            )
            time.sleep(min(pause, 30.0))
            delay = min(delay * 2, 30.0)
            with self._lock:
                # Retry with the newest state if the computation moved on (a new seq), else the same report.
                if self._dirty:
                    body = self._next_body()

    def _next_body(self) -> dict[str, Any]:
        """The latest state under a new seq (call with the lock held).

        Seqs are microseconds since the epoch (kept strictly increasing), so a process that reports for a job
        after another one (the dispatcher, when a worker process died) is not taken for a replay."""
        self._seq = max(self._seq + 1, time.time_ns() // 1000)
        self._dirty = False
        state = {k: v for k, v in self._state.items() if v is not None}
        return {"job_id": self.job_id, "seq": self._seq, **state}

    def _post(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], float | None]:
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
            retry_after = exc.headers.get("Retry-After")
            return exc.code, _json(exc.read()), float(retry_after) if retry_after else None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class Stage:
    """One stage's view of the reporter: fractions 0..1 of this stage."""

    def __init__(self, reporter: ProgressReporter, name: str, start: float, share: float) -> None:
        self.reporter = reporter
        self.name = name
        self.start = start
        self.share = share

    def update(self, fraction: float, message: str | None = None) -> None:
        fraction = min(1.0, max(0.0, fraction))
        self.reporter.update(self.start + self.share * fraction, message or self.name)


class Tracked(Iterable[T]):
    """An iterable that reports progress as it is consumed (the subset of tqdm that progress needs)."""

    def __init__(self, reporter: ProgressReporter, iterable: Iterable[T], total: int | None, desc: str | None) -> None:
        self.reporter = reporter
        self.iterable = iterable
        self.total = total
        self.desc = desc
        self.n = 0
        self.start, self.share = reporter._stage_span

    def __iter__(self) -> Iterator[T]:
        for item in self.iterable:
            yield item
            self.update(1)

    def __len__(self) -> int:
        return self.total or 0

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.total:
            self.reporter.update(self.start + self.share * min(1.0, self.n / self.total), self.desc)

    def set_description(self, desc: str) -> None:
        self.desc = desc
