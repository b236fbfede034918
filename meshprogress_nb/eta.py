"""Remaining-time estimates for mesh jobs.

The seed divided the time since the job was *created* by the fraction done, so queue time counted as work time
and a single burst of progress swung the estimate wildly. Here the rate is measured from ``started_at`` and
smoothed in time: the estimate blends the whole-attempt average rate (robust to bursts) with an exponentially
weighted recent rate whose time constant is in seconds (so it follows stages of different speed, and many
reports inside one burst count no more than one report carrying the same progress). The recent rate's share
shrinks when it saw little progress, so a pause is not extrapolated as if the job would never resume.
See ``docs/eta.md`` and ``bench/eta_traces.py`` for the comparison with the seed.

Everything is a pure function of its arguments; times are float epoch seconds and the caller owns the clock.
The hub keeps a :class:`RateState` per attempt (three plain floats) and, on every accepted progress report,
calls :func:`update_rate` and then :func:`estimate_remaining` with the same ``progress`` and ``now``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Time constant of the recent rate, in seconds: progress older than this fades by a factor e.
RATE_TIME_CONSTANT = 30.0
#: Largest share of the recent rate in the blended rate; the rest is the whole-attempt average rate.
RECENT_WEIGHT = 0.5


@dataclass(frozen=True)
class RateState:
    """Smoothed progress rate of one attempt, small enough to store as plain floats."""

    rate: float | None = None  # smoothed progress rate, percent per second
    sampled_at: float | None = None  # time of the last sample folded into `rate`
    sampled_progress: float = 0.0  # progress at that sample


def _for_attempt(state: RateState, started_at: float | None) -> RateState:
    """Drop a state sampled before this attempt started (a retry that kept the old state)."""
    if started_at is not None and state.sampled_at is not None and state.sampled_at < started_at:
        return RateState()
    return state


def _settled_weight(elapsed: float) -> float:
    """Total weight the recent-rate average has gathered after ``elapsed`` seconds of work.

    Dividing by it removes the bias towards zero of an average that starts empty, so early on the recent
    rate equals the average since the start instead of creeping up from nothing.
    """
    return -math.expm1(-max(elapsed, 0.0) / RATE_TIME_CONSTANT)


def update_rate(state: RateState, progress: float, now: float, started_at: float) -> RateState:
    """Fold a new progress report into the smoothed rate.

    The recent rate is a continuous-time exponential average of d(progress)/dt, so the weight of a report
    depends on the time it covers, not on how many reports there were: reports at irregular intervals are
    weighted by their interval, a burst of reports adds its total progress once, and repeated equal
    progress (a pause) lowers the rate gradually. Progress below the last sample is treated as equal to it
    (progress never decreases within an attempt), and a clock going backwards is treated as no time passing.
    """
    state = _for_attempt(state, started_at)
    last_at = started_at if state.sampled_at is None else max(state.sampled_at, started_at)
    last_progress = state.sampled_progress
    progress = max(progress, last_progress)
    now = max(now, last_at)
    dt = now - last_at
    prior = _settled_weight(last_at - started_at)
    if state.rate is None or prior == 0.0:
        if dt == 0.0:
            # No time to measure over yet: keep the baseline so the next report measures from it.
            return RateState(rate=None, sampled_at=last_at, sampled_progress=last_progress)
        # First measurable interval: the average since the baseline.
        return RateState(rate=(progress - last_progress) / dt, sampled_at=now, sampled_progress=progress)
    gain = -math.expm1(-dt / RATE_TIME_CONSTANT)  # weight of the new interval
    kept = (1.0 - gain) * prior  # weight left to the rate so far
    # The interval's rate is d(progress)/dt; gain/dt tends to 1/tau as dt -> 0, so a burst's progress is
    # credited once however many reports carry it.
    added = (progress - last_progress) * (gain / dt if dt > 0.0 else 1.0 / RATE_TIME_CONSTANT)
    rate = (kept * state.rate + added) / (kept + gain)
    return RateState(rate=rate, sampled_at=now, sampled_progress=progress)


def estimate_remaining(state: RateState, progress: float, now: float, started_at: float | None) -> int | None:
    """Whole seconds remaining, or None when unknown (no progress yet, complete, or no rate).

    The blended rate gives the time left as of the last sample; the time since that sample is subtracted so
    a display refreshed between reports keeps counting down. It stops at 0 rather than going negative: the
    job is overdue, and the next report (or a pause's repeated reports) will raise it again.
    """
    if not 0.0 < progress < 100.0:
        return None
    state = _for_attempt(state, started_at)
    anchor = now if state.sampled_at is None else min(state.sampled_at, now)
    average = None
    if started_at is not None and anchor > started_at:
        average = progress / (anchor - started_at)
    if average is None:
        if state.rate is None:
            return None
        rate = state.rate
    elif state.rate is None:
        rate = average
    else:
        # A rate is only as telling as the progress it was measured on: a recent window that saw little
        # progress (a pause) says little about the speed once work resumes, so its weight shrinks with it and
        # a pause falls back to the average, which already stretches with the pause.
        weight = RECENT_WEIGHT * (1.0 if state.rate >= average else state.rate / average)
        rate = average + weight * (state.rate - average)
    if rate <= 0.0:
        return None
    remaining = (100.0 - progress) / rate - (now - anchor)
    if not math.isfinite(remaining):
        return None
    return max(0, round(remaining))


def seed_estimate(progress: float, created_at: float, now: float) -> int | None:
    """The seed's formula, kept only as the baseline for comparisons.

    It measures from creation (so queue time counts as work) and assumes the average rate since then.
    Rounds half away from zero like Ruby's ``Float#round``.
    """
    if progress <= 0:
        return None
    elapsed = now - created_at
    remaining = elapsed / (progress / 100.0) - elapsed
    return math.floor(remaining + 0.5) if remaining > 0 else None
