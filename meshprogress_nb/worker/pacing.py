"""Live progress from expected durations: the mesher's stages are laid on the bar by the time they are expected to
take, and each one advances by the time it has run while its work (often one long library call) gives no steps.

The time is the job's work clock (:mod:`.work_clock`: CPU seconds, so that another process taking the CPU slows
the bar with the work instead of leaving it standing at a stage's cap). :class:`Planner` gives each stage, when it
starts, the share of the bar that makes it end where the time spent plus its estimate would put it on the job's
expected total (spent + this stage + the stages left), and starts it where the time spent puts it when the bar is
behind: an error in an earlier stage's estimate is made good at once rather than carried to the end.
:class:`PacedStage` moves the bar across its stage as the stage's expected seconds pass, up to :data:`CAP` of it
(the stage's end is reported when its work returns, so the bar never claims work not done), every fiftieth of
the stage's expected time (2 to 100 ms), so that even a 0.1 s job's bar moves smoothly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

FLOOR = 1e-3  # seconds: every stage keeps a sliver of the bar, so each one's start is reported
CAP = 0.95  # the most of its share a stage claims by time alone
TICK = 0.1  # seconds: the longest pause between two reports of a stage
MIN_TICK = 0.002  # seconds: the shortest (a stage of a 0.1 s job)
TICKS_PER_STAGE = 50  # ticks over a stage's expected time, the interval kept within MIN_TICK..TICK
PRIOR = 0.25  # seconds of work at the estimates' own pace that the measured pace starts from

Clock = Callable[[], float]


class StageProgress(Protocol):
    def update(self, fraction: float, message: str | None = None) -> None: ...


class Reporter(Protocol):
    """What the mesher needs of a reporter: :class:`~.reporter.ProgressReporter` is one."""

    def stage(self, name: str, weight: float | None = None) -> AbstractContextManager[StageProgress]: ...


class PacedStage:
    """One stage's fraction done: the larger of what its work last reported and what its expected seconds give
    for the time it has run (to :data:`CAP`). :meth:`expect` re-plans what is left of it (a second pass)."""

    def __init__(self, st: StageProgress, seconds: float, clock: Clock, start: float = 0.0) -> None:
        """``start``: the fraction the stage begins at (the job's elapsed time may have put it past its start)."""
        self.st = st
        self.clock = clock
        self.anchor = (clock(), start)  # when the current estimate was made, and the fraction it started from
        self.seconds = max(seconds, 1e-6)
        self.done = 0.0
        self.message: str | None = None
        self.lock = threading.Lock()

    @property
    def interval(self) -> float:
        """Seconds between two ticks."""
        return min(TICK, max(MIN_TICK, self.seconds / TICKS_PER_STAGE))

    def by_time(self, now: float) -> float:
        """The fraction at ``now`` if the rest of the stage takes the seconds expected, short of :data:`CAP`."""
        since, start = self.anchor
        return max(start, min(CAP, start + (1.0 - start) * (now - since) / self.seconds))

    def tick(self) -> None:
        """Report the fraction the time run gives, if it is ahead of the last report."""
        with self.lock:
            fraction = self.by_time(self.clock())
            if fraction <= self.done:
                return
            self.done = fraction
            self.st.update(fraction, self.message)

    def update(self, fraction: float, message: str | None = None) -> None:
        """The work's own report (a step done, or only a new message): the bar never goes back."""
        with self.lock:
            self.done = max(self.done, min(fraction, 1.0), self.by_time(self.clock()))
            self.message = message if message is not None else self.message
            self.st.update(self.done, self.message)

    def expect(self, seconds: float, message: str) -> None:
        """The rest of the stage is now expected to take ``seconds`` from here (e.g. an unplanned second pass)."""
        with self.lock:
            now = self.clock()
            self.done = max(self.done, self.by_time(now))
            self.anchor, self.seconds = (now, self.done), max(seconds, 1e-6)
            self.message = message
            self.st.update(self.done, message)


@contextmanager
def ticking(stage: PacedStage) -> Iterator[PacedStage]:
    """``stage``, ticked now and then by a thread until the block ends (a cancel the thread meets is the block's
    to raise)."""
    stage.tick()
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(stage.interval):
            try:
                stage.tick()
            except Exception:  # a cancel: the main thread sees it at its next update
                return

    thread = threading.Thread(target=run, name="meshprogress-ticker", daemon=True)
    thread.start()
    try:
        yield stage
    finally:
        stop.set()
        thread.join()


class Planner:
    """Lays the stages end to end, each one's share planned when it starts from the elapsed time and the estimates
    known then, and learns how fast this machine is against the estimates (``pace``: real / estimated time) from
    the stages done."""

    def __init__(self, reporter: Reporter, stages: Sequence[str], started: float, clock: Clock = time.perf_counter):
        """``started``: when the job began on ``clock`` (before the planner: reading the input's header counts)."""
        self.reporter = reporter
        self.remaining = list(stages)
        self.clock = clock
        self.started = started
        self.used = 0.0
        self.estimates: dict[str, float] = {}
        self.real = self.estimated = 0.0

    @property
    def pace(self) -> float:
        """Real / estimated seconds of the stages done, drawn towards 1 by :data:`PRIOR`: one short stage (whose
        overheads, or a pause of the machine, may take several times its estimate) does not rescale the rest."""
        return (self.real + PRIOR) / (self.estimated + PRIOR)

    def plan(self, estimates: dict[str, float]) -> None:
        """(Re)estimate the seconds of the stages to come, at the estimates' own speed."""
        self.estimates.update({name: FLOOR + seconds for name, seconds in estimates.items()})

    def seconds(self, estimate: float) -> float:
        """``estimate`` in this machine's seconds, as measured so far."""
        return estimate * self.pace

    def lay(self, name: str) -> tuple[float, float]:
        """Stage ``name``'s share of the bar as it starts, and the fraction of it it starts at: the share ends
        where the elapsed time and its estimate put it on the expected total, and the stage starts where the
        elapsed time puts it, when the bar is behind that (it never goes back)."""
        elapsed = self.clock() - self.started
        expected = self.seconds(self.estimates.get(name, FLOOR))
        total = elapsed + expected + self.seconds(sum(self.estimates.get(n, FLOOR) for n in self.remaining))
        end = (elapsed + expected) / total if self.remaining else 1.0
        share = min(max(end - self.used, 0.0), 1.0 - self.used)
        start = min(max(elapsed / total - self.used, 0.0) / share, CAP) if share > 0 else 0.0
        return share, start

    @contextmanager
    def stage(self, name: str) -> Iterator[PacedStage]:
        self.remaining.remove(name)
        estimate = self.estimates.get(name, FLOOR)
        share, start = self.lay(name)
        self.used += share
        started = self.clock()
        seconds, reported = self.seconds(estimate), share if self.remaining else None
        with self.reporter.stage(name, reported) as st, ticking(PacedStage(st, seconds, self.clock, start)) as paced:
            yield paced
        self.real += self.clock() - started
        self.estimated += estimate
