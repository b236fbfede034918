"""Tests for the ETA estimator and its comparison with the seed's formula."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshprogress_nb.eta import (
    RATE_TIME_CONSTANT,
    RateState,
    estimate_remaining,
    seed_estimate,
    update_rate,
)

START = 1_000.0


def _load_bench():
    path = Path(__file__).resolve().parents[1] / "bench" / "eta_traces.py"
    spec = importlib.util.spec_from_file_location("eta_traces", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def _replay(reports: list[tuple[float, float]], started_at: float = START) -> RateState:
    state = RateState()
    for at, progress in reports:
        state = update_rate(state, progress, at, started_at)
    return state


def _same(a: RateState, b: RateState) -> bool:
    return (
        a.sampled_at == b.sampled_at
        and a.sampled_progress == b.sampled_progress
        and math.isclose(a.rate, b.rate, rel_tol=1e-9)
    )


# --- the seed's formula -------------------------------------------------------------------------------------


def test_seed_counts_from_creation_and_rounds_like_ruby() -> None:
    # 10 s since creation at 80 %: total 12.5 s, 2.5 s left, Ruby rounds half away from zero.
    assert seed_estimate(80.0, created_at=0.0, now=10.0) == 3
    assert seed_estimate(50.0, created_at=0.0, now=60.0) == 60


@pytest.mark.parametrize("progress", [0.0, -1.0, 100.0])
def test_seed_is_none_without_progress_or_positive_result(progress: float) -> None:
    assert seed_estimate(progress, created_at=0.0, now=10.0) is None


# --- RateState ----------------------------------------------------------------------------------------------


def test_state_is_frozen_and_plain_floats() -> None:
    state = _replay([(START + 10.0, 10.0), (START + 20.0, 25.0)])
    assert all(isinstance(value, float) for value in dataclasses.astuple(state))
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.rate = 1.0  # type: ignore[misc]
    assert dataclasses.astuple(RateState()) == (None, None, 0.0)


# --- unknown estimates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("progress", [0.0, -5.0, 100.0, 120.0])
def test_no_estimate_without_progress_or_when_complete(progress: float) -> None:
    state = _replay([(START + 10.0, 50.0)])
    assert estimate_remaining(state, progress, START + 10.0, START) is None


def test_no_estimate_without_any_rate() -> None:
    assert estimate_remaining(RateState(), 10.0, START, None) is None


def test_zero_elapsed_keeps_the_start_as_baseline() -> None:
    state = update_rate(RateState(), 5.0, START, START)
    assert state == RateState(rate=None, sampled_at=START, sampled_progress=0.0)
    assert estimate_remaining(state, 5.0, START, START) is None
    # The next report is measured from the start, including the 5 % reported at once.
    state = update_rate(state, 10.0, START + 10.0, START)
    assert state.rate == pytest.approx(1.0)
    assert estimate_remaining(state, 10.0, START + 10.0, START) == 90


def test_an_absurdly_small_rate_is_unknown_not_an_overflow() -> None:
    state = RateState(rate=1e-320, sampled_at=START, sampled_progress=1.0)
    assert estimate_remaining(state, 1.0, START, None) is None


# --- steady work, irregular reports -------------------------------------------------------------------------


def test_steady_work_at_irregular_intervals_is_estimated_exactly() -> None:
    # 0.5 %/s from started_at, reported at uneven gaps: every estimate is the true remaining time.
    state = RateState()
    for at in (0.3, 1.0, 7.0, 7.5, 30.0, 31.0, 95.0, 150.0):
        progress = 0.5 * at
        state = update_rate(state, progress, START + at, START)
        assert state.rate == pytest.approx(0.5)
        assert estimate_remaining(state, progress, START + at, START) == round(200.0 - at)


def test_queue_time_before_started_at_does_not_count() -> None:
    created_at = START - 300.0
    state = _replay([(START + 50.0, 25.0)])
    assert estimate_remaining(state, 25.0, START + 50.0, START) == 150
    assert seed_estimate(25.0, created_at, START + 50.0) == 1050


def test_a_report_weighs_by_the_time_it_covers_not_by_count() -> None:
    coarse = _replay([(START + 10.0, 10.0), (START + 60.0, 20.0)])
    fine = _replay([(START + 10.0, 10.0), (START + 25.0, 13.0), (START + 26.0, 13.2), (START + 60.0, 20.0)])
    assert _same(coarse, fine)


def test_a_burst_at_one_instant_counts_its_progress_once() -> None:
    one = _replay([(START + 10.0, 10.0), (START + 40.0, 20.0), (START + 40.0, 30.0)])
    many = _replay([(START + 10.0, 10.0), (START + 40.0, 20.0)] + [(START + 40.0, 20.0 + i) for i in range(11)])
    assert _same(one, many)
    # The burst raises the rate by its progress over the time constant (bias-corrected), not to infinity.
    before = _replay([(START + 10.0, 10.0), (START + 40.0, 20.0)])
    settled = -math.expm1(-40.0 / RATE_TIME_CONSTANT)
    assert one.rate == pytest.approx(before.rate + 10.0 / (RATE_TIME_CONSTANT * settled))


# --- pauses -------------------------------------------------------------------------------------------------


def test_a_pause_lowers_the_rate_gradually_and_raises_the_estimate() -> None:
    state = _replay([(START + t, 0.2 * t) for t in range(5, 305, 5)])  # 60 % after 300 s
    rates, estimates = [state.rate], [estimate_remaining(state, 60.0, START + 300.0, START)]
    for t in range(305, 600, 5):
        state = update_rate(state, 60.0, START + t, START)
        rates.append(state.rate)
        estimates.append(estimate_remaining(state, 60.0, START + t, START))
    assert all(0.0 < later < earlier for earlier, later in pairwise(rates))
    assert rates[1] > 0.8 * rates[0]  # one quiet report is not taken as a stop
    assert all(later >= earlier for earlier, later in pairwise(estimates))
    # A long pause is not extrapolated: the estimate falls back to the whole-attempt average.
    average_only = 40.0 / (60.0 / 595.0)
    assert estimates[-1] == pytest.approx(average_only, abs=2)


def test_resuming_after_a_pause_recovers_the_working_rate() -> None:
    reports = [(START + t, 0.2 * t) for t in range(5, 305, 5)]
    reports += [(START + t, 60.0) for t in range(305, 505, 5)]
    reports += [(START + 500.0 + t, 60.0 + 0.2 * t) for t in range(5, 155, 5)]
    state = _replay(reports)
    assert state.rate == pytest.approx(0.2, rel=0.01)


def test_lower_progress_counts_as_a_repeat() -> None:
    state = _replay([(START + 10.0, 20.0)])
    assert update_rate(state, 15.0, START + 20.0, START) == update_rate(state, 20.0, START + 20.0, START)


def test_a_clock_going_backwards_is_no_time_passing() -> None:
    state = _replay([(START + 10.0, 20.0), (START + 20.0, 30.0)])
    backwards = update_rate(state, 35.0, START + 15.0, START)
    assert backwards == update_rate(state, 35.0, START + 20.0, START)
    assert backwards.sampled_at == START + 20.0


def test_a_state_from_an_earlier_attempt_is_ignored() -> None:
    old = _replay([(START + 10.0, 90.0)])
    retry_start = START + 100.0
    assert update_rate(old, 10.0, retry_start + 20.0, retry_start) == _replay([(retry_start + 20.0, 10.0)], retry_start)
    assert estimate_remaining(old, 10.0, retry_start, retry_start) is None


# --- monotone behaviour -------------------------------------------------------------------------------------


def test_the_countdown_moves_between_reports_and_stops_at_zero() -> None:
    state = _replay([(START + 10.0, 10.0), (START + 50.0, 50.0)])
    at_report = estimate_remaining(state, 50.0, START + 50.0, START)
    assert at_report == 50
    assert estimate_remaining(state, 50.0, START + 80.0, START) == 20
    assert estimate_remaining(state, 50.0, START + 500.0, START) == 0


reports_strategy = st.lists(st.tuples(st.floats(0.0, 60.0), st.floats(0.0, 10.0)), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(steps=reports_strategy, later=st.floats(0.0, 1_000.0))
def test_estimates_are_never_negative_and_never_rise_without_news(
    steps: list[tuple[float, float]], later: float
) -> None:
    state, at, progress = RateState(), START, 0.0
    for gap, gain in steps:
        at, progress = at + gap, min(99.9, progress + gain)
        state = update_rate(state, progress, at, START)
        assert state.rate is None or state.rate >= 0.0
    now = estimate_remaining(state, progress, at, START)
    then = estimate_remaining(state, progress, at + later, START)
    if now is None:
        assert then is None
    else:
        assert then is not None and 0 <= then <= now
        # More progress on the same state never means more time left.
        further = estimate_remaining(state, min(99.9, progress + 5.0), at, START)
        assert further is None or further <= now


# --- the trace comparison -----------------------------------------------------------------------------------


def test_ours_beats_the_seed_on_every_trace() -> None:
    results = bench.compare()
    assert [r.name for r in results] == [t.name for t in bench.traces()]
    for result in results:
        assert result.points > 50
        assert result.ours.mae < result.seed.mae, result.name


def test_the_gain_holds_on_average_over_other_seeds() -> None:
    for spread in bench.robustness():
        assert spread.mean_ratio < 1.0, spread.name


def test_the_comparison_is_deterministic() -> None:
    assert bench.compare() == bench.compare()
    assert bench.comparison_table(bench.compare()).count("\n") == 1 + len(bench.traces())
