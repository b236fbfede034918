"""The reporting SDK end to end against a real hub: coalescing, retries through an outage, seq dedupe, cancel, 401.

The protocol alone, against a recording stand-in of the callback route: test_reporter_protocol.py.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from meshprogress_nb.worker import CallbackAuthError, JobCancelled, ProgressReporter
from support.clients import Api
from support.server import HubServer

pytestmark = pytest.mark.slow  # the SDK against a real server process


API = "meshprogress/api/v1/"


def reporter_for(mesh: dict, **kwargs) -> ProgressReporter:  # noqa: ANN003
    return ProgressReporter(mesh["callback"]["url"], mesh["job_id"], mesh["callback"]["token"], **kwargs)


async def mesh_state(api: Api, mesh: dict) -> dict:
    return (await api.http.get(f"{API}meshes/{mesh['id']}")).json()


async def test_updates_are_coalesced_and_the_final_state_always_arrives(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    reporter = reporter_for(mesh, min_interval=0.2)
    started = time.monotonic()
    for step in range(1, 2001):
        reporter.update(step / 20, f"step {step}")
        if step % 200 == 0:
            time.sleep(0.05)
    with pytest.raises(ValueError, match="4096"):
        reporter.complete(quality={"notes": "x" * 5000})
    reporter.complete(result_url="/r.ply", quality={"cells": 1772, "watertight": True})
    assert reporter.close(timeout=30)
    elapsed = time.monotonic() - started
    state = await mesh_state(alice, mesh)
    assert (state["status"], state["progress"], state["result_url"]) == ("completed", 100, "/r.ply")
    assert state["quality"] == {"cells": 1772, "watertight": True}
    # 2,001 calls; at most one POST per 0.2 s plus the two status changes.
    posts = state["version"] - mesh["version"]
    assert posts <= elapsed / 0.2 + 3, (posts, elapsed)


async def test_context_manager_reports_failures_with_the_exception_text(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    with pytest.raises(ValueError), reporter_for(mesh) as reporter:
        reporter.update(30, "meshing")
        raise ValueError("the image is empty")
    state = await mesh_state(alice, mesh)
    assert state["status"] == "failed" and state["message"] == "the image is empty"


async def test_stages_and_track_map_onto_overall_progress(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    seen = []
    with reporter_for(mesh, min_interval=0.0) as reporter:
        reporter.plan({"load": 1, "mesh": 3})
        with reporter.stage("load") as st:
            st.update(0.5)
            seen.append(reporter._state["progress"])
        with reporter.stage("mesh"):
            for _ in reporter.track(range(10)):
                seen.append(reporter._state["progress"])
            seen.append(reporter._state["progress"])
    assert seen[:3] == [12.5, 25, 32.5] and seen[-1] == pytest.approx(100)
    assert seen == sorted(seen)
    assert (await mesh_state(alice, mesh))["status"] == "completed"


async def test_cancel_reaches_the_worker_within_one_update(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    reporter = reporter_for(mesh, min_interval=0.05)
    reporter.update(10, "working")
    time.sleep(0.3)
    await alice.http.post(f"{API}meshes/{mesh['id']}/cancel")
    updates_after_cancel = 0
    with pytest.raises(JobCancelled):
        for step in range(11, 100):
            reporter.update(step)
            updates_after_cancel += 1
            time.sleep(0.1)
    # The first update after the cancel is posted and answered 409; the next one raises.
    assert updates_after_cancel <= 3
    reporter.close(timeout=5)
    assert (await mesh_state(alice, mesh))["status"] == "cancelled"


async def test_a_refused_token_stops_retrying_with_a_clear_error(
    hub: HubServer, alice: Api, caplog: pytest.LogCaptureFixture
) -> None:
    mesh = await alice.create_mesh()
    reporter = ProgressReporter(mesh["callback"]["url"], mesh["job_id"], "not-a-token")
    with caplog.at_level(logging.ERROR, logger="meshprogress.worker"):
        reporter.update(5)
        assert not reporter.close(timeout=10)
    assert "refused the callback token" in caplog.text
    with pytest.raises(CallbackAuthError):
        reporter.update(6)


async def test_reports_survive_a_hub_outage_and_duplicates_are_dropped(tmp_path: Path) -> None:
    server = HubServer(tmp_path).start()
    api = Api(server.url, "alice-token")
    try:
        mesh = await api.create_mesh()
        reporter = reporter_for(mesh, min_interval=0.05, max_retry_seconds=60, backoff_max=1.0)
        reporter.update(20, "before")
        time.sleep(0.5)
        server.kill()
        reporter.update(60, "during the outage")  # the work goes on; the reporter keeps retrying
        time.sleep(2)
        server.start()
        reporter.complete(message="after")
        assert reporter.close(timeout=60)
        state = await mesh_state(api, mesh)
        assert (state["status"], state["message"]) == ("completed", "after")
        # Replaying an already-accepted seq changes nothing.
        replay = await api.callback(mesh["callback"], mesh["job_id"], progress=10, seq=1)
        assert replay.json()["applied"] is False
    finally:
        await api.close()
        server.stop()


def test_the_sdk_imports_with_the_standard_library_only() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['jupyter_server'] = None; sys.modules['tornado'] = None; "
        "sys.modules['numpy'] = None; from meshprogress_nb.worker import ProgressReporter; print('ok')"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "ok"
