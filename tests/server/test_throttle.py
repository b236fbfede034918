"""The per-job write budget: floods are merged, the latest state is always written, status changes go at once."""

from __future__ import annotations

import asyncio
import time

import httpx

from meshprogress_nb.models import Status
from meshprogress_nb.server.throttle import CallbackThrottle, merge
from meshprogress_nb.state import Report
from support.clients import CALLBACK, Api
from support.clock import ManualClock
from support.server import HubServer


def test_merge_keeps_the_latest_of_each_field() -> None:
    merged = merge(Report(progress=40, message="a", seq=3, result_url="/x"), Report(progress=30, seq=5))
    assert (merged.progress, merged.message, merged.seq, merged.result_url) == (40, "a", 5, "/x")


async def test_flood_is_merged_into_one_write_per_slot_and_status_changes_flush() -> None:
    written: list[Report] = []

    async def apply(key, report: Report) -> bool:  # noqa: ANN001
        written.append(report)
        return True

    clock = ManualClock()
    throttle = CallbackThrottle(rate=2, apply=apply, clock=clock)
    key = (1, "job")
    assert await throttle.submit(key, Report(progress=1, seq=1)) is True
    for seq in range(2, 100):
        assert await throttle.submit(key, Report(progress=seq / 2, seq=seq)) is None
    await clock.advance(0.49)
    assert [r.seq for r in written] == [1], "nothing before the job's next slot"
    await clock.advance(0.01)
    assert [r.seq for r in written] == [1, 99] and written[1].progress == 49.5
    assert await throttle.submit(key, Report(progress=60, seq=100)) is None
    assert await throttle.submit(key, Report(status=Status.COMPLETED, seq=101)) is True
    final = written[-1]
    assert final.status is Status.COMPLETED and final.progress == 60 and final.seq == 101
    await clock.advance(10)
    assert len(written) == 3, "the merged pending report went out with the status change, not after it"


async def test_one_write_in_flight_per_job_the_rest_follows_it() -> None:
    """Overlapping writes of one job would race each other's compare-and-set; they queue instead."""
    release = asyncio.Event()
    started: list[Report] = []
    in_flight = 0
    most_in_flight = 0

    async def apply(key, report: Report) -> bool:  # noqa: ANN001
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        started.append(report)
        await release.wait()
        in_flight -= 1
        return True

    clock = ManualClock()
    throttle = CallbackThrottle(rate=1000, apply=apply, clock=clock)
    key = (1, "job")
    first = asyncio.ensure_future(throttle.submit(key, Report(progress=1, seq=1)))
    await clock.advance(0.05)  # far past the 1 ms slot: only the write in flight holds the next one back
    for seq in range(2, 10):
        assert await throttle.submit(key, Report(progress=seq, seq=seq)) is None
    assert [r.seq for r in started] == [1]
    other = asyncio.ensure_future(throttle.submit((2, "other"), Report(progress=5, seq=1)))
    await clock.advance(0)
    assert [r.seq for r in started] == [1, 1], "another job is not held back"
    release.set()
    assert await first is True and await other is True
    await clock.advance(0.05)
    assert [r.seq for r in started] == [1, 1, 9] and started[-1].progress == 9
    assert most_in_flight == 2


async def test_a_flood_through_the_server_writes_a_bounded_number_of_versions(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    headers = {"X-Callback-Token": mesh["callback"]["token"]}
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=hub.url, timeout=30, limits=httpx.Limits(max_connections=10)) as worker:
        for seq in range(1, 301):
            response = await worker.post(
                CALLBACK, json={"job_id": mesh["job_id"], "progress": seq / 3, "seq": seq}, headers=headers
            )
            assert response.status_code == 202
    elapsed = time.monotonic() - started
    await asyncio.sleep(0.3)
    stored = (await alice.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()
    assert stored["progress"] == 100, "the latest state was kept"
    assert stored["version"] - mesh["version"] <= elapsed * 20 + 3, (stored["version"], elapsed)


async def test_a_status_change_goes_at_once_and_counts_as_a_write_in_flight() -> None:
    gates: list[asyncio.Event] = []
    started: list[Report] = []

    async def apply(key, report: Report) -> bool:  # noqa: ANN001
        gate = asyncio.Event()
        gates.append(gate)
        started.append(report)
        await gate.wait()
        return True

    clock = ManualClock()
    throttle = CallbackThrottle(rate=1000, apply=apply, clock=clock)
    key = (1, "job")
    progress = asyncio.ensure_future(throttle.submit(key, Report(progress=10, seq=1)))
    await clock.advance(0.01)
    final = asyncio.ensure_future(throttle.submit(key, Report(status=Status.FAILED, seq=2)))
    await clock.advance(0.01)
    assert [r.seq for r in started] == [1, 2], "the status change did not wait for the progress write"
    gates[0].set()
    await progress
    merged = await asyncio.wait_for(throttle.submit(key, Report(progress=20, seq=3)), 1)  # a write would block
    assert merged is None, "the status write is still in flight"
    await clock.advance(0.01)
    assert len(started) == 2
    gates[1].set()
    await final
    await clock.advance(0.01)
    assert [r.seq for r in started] == [1, 2, 3]
    gates[2].set()


async def test_close_writes_every_merged_report() -> None:
    """A stopping server still writes what its workers were told was accepted (202)."""
    written: list[Report] = []

    async def apply(key, report: Report) -> bool:  # noqa: ANN001
        written.append(report)
        return True

    clock = ManualClock()
    throttle = CallbackThrottle(rate=1, apply=apply, clock=clock)
    await throttle.submit((1, "job"), Report(progress=1, seq=1))
    assert await throttle.submit((1, "job"), Report(progress=70, seq=2)) is None
    await throttle.close()
    assert [r.seq for r in written] == [1, 2] and clock.pending == 0
