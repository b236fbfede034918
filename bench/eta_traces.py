"""Compare our ETA estimator with the seed's on simulated progress traces.

Each trace is a deterministic (seeded) list of worker reports ``(time, progress)`` for one attempt, ending
with the report of 100 %. Both estimators are replayed report by report, as the hub would call them, and their
estimates are compared with the true remaining time (finish time minus report time). Only the first trace has
a queue wait; on the others ``created_at == started_at``, so the seed's only handicap there is its rate model.

Run ``python bench/eta_traces.py`` to print the Markdown tables used in ``docs/eta.md``: the comparison on the
fixed traces, then how it holds over other seeds of the same generators. Tests call :func:`compare`.
"""

from __future__ import annotations

import random
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Run as a script from a checkout: make the in-tree package importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meshprogress_nb.eta import RateState, estimate_remaining, seed_estimate, update_rate  # noqa: E402

Report = tuple[float, float]


@dataclass(frozen=True)
class Trace:
    """One attempt: when it was created and started, and the reports the worker sent."""

    name: str
    created_at: float
    started_at: float
    reports: tuple[Report, ...]

    @property
    def finished_at(self) -> float:
        return self.reports[-1][0]


@dataclass(frozen=True)
class Errors:
    """Absolute errors (seconds) of one estimator over one trace."""

    mae: float
    median: float
    p90: float


@dataclass(frozen=True)
class TraceResult:
    """Both estimators' errors on one trace, scored at ``points`` reports."""

    name: str
    points: int
    seed: Errors
    ours: Errors

    @property
    def ratio(self) -> float:
        return self.ours.mae / self.seed.mae


def _reports(
    start: float,
    segments: list[tuple[float, float]],
    interval: Callable[[], float],
    jitter: Callable[[], float],
) -> tuple[Report, ...]:
    """Reports every ``interval()`` seconds over segments of (duration, progress gained).

    Within a segment the work runs at a steady speed scaled by ``jitter()`` per interval; the gains are then
    rescaled so each segment gains exactly its share. Progress is rounded to 0.1 %, as a worker would send it.
    """
    times: list[float] = []
    gains: list[float] = []
    t = start
    for duration, gain in segments:
        end = t + duration
        seg_times: list[float] = []
        weights: list[float] = []
        while t < end:
            previous, t = t, min(t + interval(), end)
            seg_times.append(t)
            weights.append((t - previous) * jitter())
        total = sum(weights)
        times += seg_times
        gains += [gain * w / total for w in weights]
    reports: list[Report] = []
    progress = 0.0
    for at, gain in zip(times, gains, strict=True):
        progress += gain
        reports.append((round(at, 3), min(99.9, round(progress, 1))))
    return _finish(reports)


def _finish(reports: list[Report]) -> tuple[Report, ...]:
    """Make the last report, and only it, 100 % (earlier ones are capped at 99.9 so rounding cannot finish early)."""
    at, _ = reports[-1]
    return (*reports[:-1], (at, 100.0))


def steady_with_queue(seed: int = 1) -> Trace:
    """Ten minutes of steady work after three minutes in the queue."""
    rng = random.Random(seed)
    created, queued = 1_000.0, 180.0
    reports = _reports(created + queued, [(600.0, 100.0)], lambda: rng.uniform(3.0, 7.0), lambda: rng.uniform(0.8, 1.2))
    return Trace("steady, 3 min queue", created, created + queued, reports)


def bursty(seed: int = 2) -> Trace:
    """Work in chunks of random length and size; each chunk ends with a burst of reports, then silence."""
    rng = random.Random(seed)
    start = 1_000.0
    chunks = [(rng.expovariate(1 / 25.0), rng.uniform(1.0, 7.0)) for _ in range(25)]
    scale = 100.0 / sum(gain for _, gain in chunks)
    reports: list[Report] = []
    t, progress = start, 0.0
    for duration, gain in chunks:
        t += duration
        parts = rng.randint(3, 6)
        for _ in range(parts):
            t += rng.uniform(0.05, 0.3)
            progress += gain * scale / parts
            reports.append((round(t, 3), min(99.9, round(progress, 1))))
    return Trace("bursty", start, start, _finish(reports))


def staged(seed: int = 3) -> Trace:
    """Load, surface mesh, volume mesh and optimisation: stages of very different speed."""
    rng = random.Random(seed)
    start = 1_000.0
    stages = [(15.0, 5.0), (60.0, 25.0), (420.0, 55.0), (45.0, 15.0)]
    reports = _reports(start, stages, lambda: rng.uniform(2.0, 6.0), lambda: rng.uniform(0.8, 1.2))
    return Trace("stages of different speed", start, start, reports)


def stall(seed: int = 4) -> Trace:
    """Steady work, a 200 s stall while the worker keeps reporting the same progress, then steady again."""
    rng = random.Random(seed)
    start = 1_000.0
    segments = [(300.0, 60.0), (200.0, 0.0), (200.0, 40.0)]
    reports = _reports(start, segments, lambda: rng.uniform(3.0, 7.0), lambda: rng.uniform(0.8, 1.2))
    return Trace("stall / pause", start, start, reports)


GENERATORS: tuple[Callable[..., Trace], ...] = (steady_with_queue, bursty, staged, stall)


def traces() -> list[Trace]:
    """The traces of the comparison, always the same (each generator's default seed)."""
    return [generate() for generate in GENERATORS]


def _errors(errors: list[float]) -> Errors:
    ranked = sorted(errors)
    p90 = ranked[min(len(ranked) - 1, int(0.9 * len(ranked)))]
    return Errors(mae=statistics.fmean(ranked), median=statistics.median(ranked), p90=p90)


def replay(trace: Trace) -> TraceResult:
    """Feed the trace to both estimators and score them at every report before completion.

    A report where an estimator has no answer (``None``) is scored as if it answered 0, so staying silent is
    never cheaper than guessing.
    """
    state = RateState()
    seed_errors: list[float] = []
    our_errors: list[float] = []
    for at, progress in trace.reports:
        if progress >= 100.0:
            break
        state = update_rate(state, progress, at, trace.started_at)
        truth = trace.finished_at - at
        ours = estimate_remaining(state, progress, at, trace.started_at)
        seed = seed_estimate(progress, trace.created_at, at)
        our_errors.append(abs((ours or 0) - truth))
        seed_errors.append(abs((seed or 0) - truth))
    return TraceResult(trace.name, len(our_errors), _errors(seed_errors), _errors(our_errors))


def compare(selected: list[Trace] | None = None) -> list[TraceResult]:
    """Scores of both estimators on each trace (all of :func:`traces` by default)."""
    return [replay(trace) for trace in (traces() if selected is None else selected)]


@dataclass(frozen=True)
class Spread:
    """How one generator's comparison varies with its seed: MAE ratios (ours / seed) over ``runs`` seeds."""

    name: str
    runs: int
    wins: int
    mean_ratio: float
    worst_ratio: float


#: Seeds for :func:`robustness`, disjoint from the generators' defaults.
ROBUSTNESS_SEEDS = range(100, 130)


def robustness(seeds: Sequence[int] = ROBUSTNESS_SEEDS) -> list[Spread]:
    """Replay every generator with each seed, so a lucky default trace cannot pass for a real gain."""
    spreads = []
    for generate in GENERATORS:
        results = compare([generate(seed) for seed in seeds])
        ratios = [r.ratio for r in results]
        wins = sum(ratio < 1.0 for ratio in ratios)
        spreads.append(Spread(results[0].name, len(ratios), wins, statistics.fmean(ratios), max(ratios)))
    return spreads


def comparison_table(results: list[TraceResult]) -> str:
    """The comparison as a Markdown table; errors in seconds."""
    lines = [
        "| trace | reports | seed MAE | ours MAE | ratio | seed median / p90 | ours median / p90 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.points} | {r.seed.mae:.1f} | {r.ours.mae:.1f} | {r.ratio:.2f} "
            f"| {r.seed.median:.1f} / {r.seed.p90:.1f} | {r.ours.median:.1f} / {r.ours.p90:.1f} |"
        )
    return "\n".join(lines)


def robustness_table(spreads: list[Spread]) -> str:
    """The robustness check as a Markdown table."""
    lines = [
        "| trace | seeds | ours better | mean ratio | worst ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in spreads:
        lines.append(f"| {s.name} | {s.runs} | {s.wins} | {s.mean_ratio:.2f} | {s.worst_ratio:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(comparison_table(compare()))
    print()
    print(f"Same generators, seeds {ROBUSTNESS_SEEDS.start}-{ROBUSTNESS_SEEDS.stop - 1}:")
    print()
    print(robustness_table(robustness()))
