"""The bar follows time: a stage advances by its expected seconds (a driven clock, no sleeps), short of its end until
its work returns, and each stage's share makes good the error of the stages before it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from meshprogress_nb.worker.pacing import CAP, MIN_TICK, TICK, PacedStage, Planner, ticking


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Stage:
    """A reporter's stage that keeps what it was told."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.messages: list[str | None] = []

    def update(self, fraction: float, message: str | None = None) -> None:
        self.values.append(fraction)
        self.messages.append(message)


class Reporter:
    """Stages laid end to end like an unplanned ProgressReporter; keeps each one's (start, share)."""

    def __init__(self) -> None:
        self.spans: dict[str, tuple[float, float]] = {}
        self.next = 0.0

    @contextmanager
    def stage(self, name: str, weight: float | None = None) -> Iterator[Stage]:
        share = 1.0 - self.next if weight is None else weight
        self.spans[name] = (self.next, share)
        self.next += share
        yield Stage()


def test_a_stage_advances_with_its_expected_time_and_stops_short_of_its_end() -> None:
    clock, st = Clock(), Stage()
    paced = PacedStage(st, 2.0, clock)
    for now, expected in ((0.5, 0.25), (1.0, 0.5), (1.9, 0.95), (5.0, 0.95)):
        clock.now = 100.0 + now
        paced.tick()
        assert paced.done == pytest.approx(expected)
    assert st.values == pytest.approx([0.25, 0.5, CAP])  # a tick that gains nothing reports nothing
    paced.update(1.0, "done")  # the work returned: only then is the stage complete
    assert st.values[-1] == 1.0 and st.messages[-1] == "done"


def test_the_works_own_reports_never_take_the_bar_back() -> None:
    clock, st = Clock(), Stage()
    paced = PacedStage(st, 1.0, clock)
    clock.now += 0.6
    paced.update(0.2, "smoothing")  # behind the time's 0.6: a message, not a step back
    assert st.values == pytest.approx([0.6]) and st.messages == ["smoothing"]
    paced.update(0.8)
    clock.now += 0.1
    paced.tick()  # the time's 0.7 is behind the work's 0.8
    assert st.values == pytest.approx([0.6, 0.8]) and st.messages == ["smoothing", "smoothing"]


def test_expect_replans_the_rest_of_the_stage_from_where_it_stands() -> None:
    clock, st = Clock(), Stage()
    paced = PacedStage(st, 1.0, clock)
    clock.now += 0.5
    paced.expect(2.0, "a second pass")  # half done by time; the rest now takes 2 s
    clock.now += 1.0
    paced.tick()
    assert paced.done == pytest.approx(0.5 + 0.5 * 0.5)
    assert st.messages[-1] == "a second pass"


def test_the_tick_is_a_fiftieth_of_the_stage_within_bounds() -> None:
    clock = Clock()
    assert PacedStage(Stage(), 0.5, clock).interval == pytest.approx(0.01)
    assert PacedStage(Stage(), 0.01, clock).interval == MIN_TICK
    assert PacedStage(Stage(), 60.0, clock).interval == TICK


def test_the_ticker_reports_until_the_block_ends() -> None:
    class Seen(Stage):
        def __init__(self) -> None:
            super().__init__()
            self.reported = threading.Event()

        def update(self, fraction: float, message: str | None = None) -> None:
            super().update(fraction, message)
            self.reported.set()

    clock, st = Clock(), Seen()
    with ticking(PacedStage(st, 0.01, clock)):  # ticks every 2 ms
        clock.now += 0.005
        assert st.reported.wait(10.0)  # a deadline, not a sleep
    count = len(st.values)
    clock.now += 0.004
    assert st.values[0] == pytest.approx(0.5) and len(st.values) == count  # the thread has ended: no more ticks


def test_each_share_ends_where_elapsed_time_and_the_estimates_put_it() -> None:
    clock, reporter = Clock(), Reporter()
    planner = Planner(reporter, ["load", "mesh", "write"], started=clock.now - 0.5, clock=clock)  # probing: 0.5 s
    planner.plan({"load": 1.0, "mesh": 2.0, "write": 1.0})
    with planner.stage("load"):
        clock.now += 3.0  # three times its estimate
    start, share = reporter.spans["load"]
    assert (start, start + share) == pytest.approx((0.0, (0.5 + 1.001) / (0.5 + 4.003)))
    pace = planner.pace
    assert 1.0 < pace < 3.0  # learnt, drawn towards 1 by the prior
    with planner.stage("mesh"):
        clock.now += 2.0
    start, share = reporter.spans["mesh"]
    elapsed, mesh, write = 3.5, 2.001 * pace, 1.001 * pace
    assert start + share == pytest.approx((elapsed + mesh) / (elapsed + mesh + write))  # load's overrun made good
    with planner.stage("write"):
        pass
    assert sum(reporter.spans["write"]) == pytest.approx(1.0)  # the last stage takes what is left


def test_a_stage_behind_the_bar_gets_no_share_rather_than_a_step_back() -> None:
    clock, reporter = Clock(), Reporter()
    planner = Planner(reporter, ["a", "b", "c"], started=clock.now, clock=clock)
    planner.plan({"a": 10.0, "b": 1.0, "c": 10.0})
    with planner.stage("a"):
        clock.now += 0.001  # far quicker than expected: the bar is ahead of the time
    with planner.stage("b"):
        pass
    assert reporter.spans["b"][1] == 0.0


def test_a_stage_starts_where_the_elapsed_time_puts_the_bar_when_it_is_behind() -> None:
    clock, reporter = Clock(), Reporter()
    planner = Planner(reporter, ["load", "mesh"], started=clock.now, clock=clock)
    planner.plan({"load": 1.0, "mesh": 1.0})
    with planner.stage("load") as load:
        clock.now += 3.0  # the bar stands at load's end (its cap, then 100 % of it) while the time runs on
        load.tick()
    assert load.done == CAP
    with planner.stage("mesh") as mesh:
        start, share = reporter.spans["mesh"]
        assert start + share * mesh.done == pytest.approx(3.0 / (3.0 + 1.001 * planner.pace))  # a jump, not a crawl
