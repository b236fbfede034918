"""Hub behaviour: who may read and control a job; stalled workers are failed, and Retry recovers them."""

from __future__ import annotations

import asyncio

import pytest

from meshprogress_nb.models import Status
from meshprogress_nb.server.config import MeshProgress
from meshprogress_nb.server.hub import ProgressHub
from meshprogress_nb.server.identity import Identity
from meshprogress_nb.server.tokens import CallbackTokens
from meshprogress_nb.state import Conflict, Report
from support.clock import ManualClock
from support.core import Core
from support.waiting import wait_until

ALICE = Identity("alice")


async def test_a_silent_worker_is_failed_after_stall_timeout_and_retry_works(core: Core) -> None:
    hub, clock = core.hub, core.clock
    mesh = await hub.create_mesh(ALICE, "a.png", "", {}, dispatch=False)
    assert await hub.report(hub.tokens.issue(mesh.id, mesh.job_id), mesh.job_id, Report(progress=10, seq=1))
    await clock.advance(hub.config.stall_timeout - 1)
    assert await hub.sweep_stalled() == []
    assert (await hub.mesh_for(ALICE, mesh.id)).status is Status.PROCESSING
    await clock.advance(2)
    assert await hub.sweep_stalled() == [mesh.id]
    failed = await hub.mesh_for(ALICE, mesh.id)
    assert failed.status is Status.FAILED and "No progress report for 30 s" in failed.message
    with pytest.raises(Conflict):
        await hub.report(hub.tokens.issue(mesh.id, mesh.job_id), mesh.job_id, Report(progress=20, seq=2))
    retried = await hub.retry(ALICE, mesh.id)
    assert retried.status is Status.PENDING
    await clock.advance(hub.config.stall_timeout * 10)
    assert await hub.sweep_stalled() == [], "pending jobs are not stalled: nothing has started them yet"


async def test_the_sweep_runs_every_check_interval_on_the_hubs_clock(core: Core) -> None:
    hub, clock = core.hub, core.clock
    mesh = await hub.create_mesh(ALICE, "a.png", "", {}, dispatch=False)
    await hub.report(hub.tokens.issue(mesh.id, mesh.job_id), mesh.job_id, Report(progress=10, seq=1))
    await clock.advance(hub.config.stall_timeout + 1)
    hub.start_sweeps()  # the fixture started the store already

    async def one_interval_later() -> Status:
        await clock.advance(hub.config.stall_check_interval)
        return (await hub.mesh_for(ALICE, mesh.id)).status

    await wait_until(one_interval_later, lambda status: status is Status.FAILED)


async def test_close_ends_the_sweep_even_if_the_store_swallows_its_cancellation(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """redis-py can swallow a cancellation that lands while it checks a pooled connection (seen under load)."""
    hub, clock = core.hub, core.clock
    entered = asyncio.Event()

    async def unstarted_that_swallows(before: float, limit: int) -> list[int]:
        entered.set()
        try:  # noqa: SIM105 - spelled out: this is the swallowing under test
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # what the library did
        return []

    monkeypatch.setattr(hub.backend, "unstarted", unstarted_that_swallows)
    hub.start_sweeps()
    await clock.advance(hub.config.stall_check_interval)
    await asyncio.wait_for(entered.wait(), 30)
    await asyncio.wait_for(hub.close(), 30)


@pytest.mark.parametrize(
    ("who", "may_read", "may_control"),
    [
        (Identity("alice"), True, True),  # the owner
        (Identity("bob"), False, False),
        (Identity("reader"), True, False),  # read_users
        (Identity("carol", frozenset({"mesh-readers"})), True, False),  # read_groups
        (Identity("admin"), True, True),  # admin_users
        (Identity("dave", frozenset({"staff", "mesh-admins"})), True, True),  # admin_groups
        (Identity("mesh-admins"), False, False),  # a user named like a group is not in it
    ],
)
def test_who_may_read_and_control_a_job(who: Identity, may_read: bool, may_control: bool) -> None:
    config = MeshProgress(
        read_users=["reader"], read_groups=["mesh-readers"], admin_users=["admin"], admin_groups=["mesh-admins"]
    )
    hub = ProgressHub(
        config,
        backend=None,  # type: ignore[arg-type]  # authorization reads no state
        tokens=CallbackTokens("s" * 32, 60),
        api_path="/",
        callback_url=str,
        clock=ManualClock(),
    )
    assert (hub.can_read(who, "alice"), hub.can_control(who, "alice")) == (may_read, may_control)
