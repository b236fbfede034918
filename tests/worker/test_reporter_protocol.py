"""Protocol tests of the reporting SDK against a recording stand-in of the callback route (no hub, no Jupyter):
the body and headers, seq, coalescing, never blocking, retries and backoff, Retry-After, 401, 409, the context
manager, stages and track."""

from __future__ import annotations

import logging
import socket
import time

import pytest
from callback_recorder import Answer, RecordingHub

from meshprogress_nb.worker import CallbackAuthError, JobCancelled, ProgressReporter
from meshprogress_nb.worker.reporter import _retry_after

CANCELLED = Answer(409, {"error": "Mesh is cancelled", "status": "cancelled"})


def reporter(hub: RecordingHub, **kwargs: float) -> ProgressReporter:
    return ProgressReporter(hub.url, "job-1", "secret-token", **kwargs)


def test_protocol_body_headers_and_increasing_seq(recording_hub: RecordingHub) -> None:
    with reporter(recording_hub, min_interval=0.0) as r:
        r.update(10, "loading")
        time.sleep(0.1)
        r.update(55.55555, "meshing")
        time.sleep(0.1)
        r.complete(result_url="/files/out.ply", message="done")
    requests = recording_hub.wait_for(3)
    first = requests[0]
    assert first.headers["X-Callback-Token"] == "secret-token"
    assert first.headers["Content-Type"] == "application/json"
    assert first.body == {
        "job_id": "job-1",
        "seq": first.body["seq"],
        "progress": 10.0,
        "message": "loading",
        "status": "processing",
    }
    bodies = [req.body for req in requests]
    assert bodies[1]["progress"] == 55.556  # rounded as the hub stores it
    assert bodies[-1] == {
        **bodies[-1],
        "status": "completed",
        "progress": 100.0,
        "result_url": "/files/out.ply",
        "message": "done",
    }
    seqs = [b["seq"] for b in bodies]
    assert seqs == sorted(set(seqs)) and seqs[0] > 1_600_000_000 * 10**6  # microseconds since the epoch
    assert seqs[-1] < 2**53


def test_protocol_coalescing_sends_at_most_one_post_per_interval_and_always_the_last(
    recording_hub: RecordingHub,
) -> None:
    r = reporter(recording_hub, min_interval=0.2)
    started = time.monotonic()
    for step in range(1, 1001):
        r.update(step / 20, f"step {step}")
        if step % 100 == 0:
            time.sleep(0.1)
    elapsed = time.monotonic() - started
    time.sleep(0.3)  # the last progress is sent at the end of its interval, without any further call
    processing = [b for b in recording_hub.bodies() if b["status"] == "processing"]
    assert processing[-1]["progress"] == 50 and processing[-1]["message"] == "step 1000"
    assert len(processing) <= elapsed / 0.2 + 3
    times = [req.at for req in recording_hub.requests]
    assert all(later - earlier >= 0.18 for earlier, later in zip(times[1:], times[2:], strict=False))
    # A status change goes at once, not at the end of the interval.
    r.update(60)
    called = time.monotonic()
    r.complete()
    final = recording_hub.wait_for(len(recording_hub.requests) + 1)[-1]
    assert final.body["status"] == "completed" and final.at - called < 0.15
    assert r.close(timeout=5)


def test_protocol_updates_never_block_on_a_slow_hub(recording_hub: RecordingHub) -> None:
    recording_hub.default = Answer(delay=1.0)
    r = reporter(recording_hub, min_interval=0.0)
    started = time.monotonic()
    for step in range(200):
        r.update(step / 2)
    r.complete()
    assert time.monotonic() - started < 0.2
    assert r.close(timeout=10)
    bodies = recording_hub.bodies()
    assert len(bodies) <= 3 and bodies[-1]["status"] == "completed"  # the in-flight one, maybe the latest, the end


def test_protocol_503_retry_after_is_honoured_and_the_retry_carries_the_newest_state(
    recording_hub: RecordingHub,
) -> None:
    recording_hub.answer(Answer(503, {"error": "store unreachable"}, {"Retry-After": "1"}))
    r = reporter(recording_hub, min_interval=0.0)
    r.update(10, "first")
    recording_hub.wait_for(1)
    r.update(40, "moved on")
    second = recording_hub.wait_for(2)
    gap = second[1].at - second[0].at
    assert 0.9 <= gap < 2.0, gap
    assert second[1].body["progress"] == 40 and second[1].body["seq"] > second[0].body["seq"]
    r.complete()
    assert r.close(timeout=5)


def test_protocol_5xx_is_retried_with_growing_jittered_backoff(recording_hub: RecordingHub) -> None:
    recording_hub.answer(Answer(500), Answer(502), Answer(500))
    r = reporter(recording_hub, min_interval=0.0, backoff_initial=0.1, backoff_max=1.0)
    r.update(5)
    times = [req.at for req in recording_hub.wait_for(4)]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # Equal jitter: the n-th pause is in [b/2, b] with b = 0.1 * 2**n.
    assert 0.04 <= gaps[0] <= 0.2 and gaps[2] >= 0.19 and gaps[2] > gaps[0]
    assert r.close(timeout=5)
    assert recording_hub.bodies()[-1]["progress"] == 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_protocol_an_unreachable_hub_is_retried_for_a_bounded_time_and_the_work_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/meshprogress/api/v1/mesh_callbacks/progress"
    r = ProgressReporter(url, "job-1", "secret-token", min_interval=0.0, max_retry_seconds=0.6, backoff_initial=0.1)
    with caplog.at_level(logging.WARNING, logger="meshprogress.worker"):
        started = time.monotonic()
        for step in range(100):
            r.update(step)
        assert time.monotonic() - started < 0.1
        r.complete()
        assert not r.close(timeout=5)
        assert time.monotonic() - started < 3
    assert "not delivered" in caplog.text and "the work goes on" in caplog.text and "gave up" in caplog.text
    assert "secret-token" not in caplog.text


def test_protocol_reports_survive_an_outage(recording_hub: RecordingHub) -> None:
    r = reporter(recording_hub, min_interval=0.05, backoff_initial=0.1, backoff_max=0.3)
    r.update(20, "before")
    recording_hub.wait_for(1)
    recording_hub.stop()
    r.update(60, "during the outage")
    time.sleep(0.5)
    recording_hub.start()
    r.complete(message="after")
    assert r.close(timeout=10)
    bodies = recording_hub.bodies()
    assert bodies[-1]["status"] == "completed" and bodies[-1]["message"] == "after"


def test_protocol_401_stops_retrying_and_raises_at_the_next_update(
    recording_hub: RecordingHub, caplog: pytest.LogCaptureFixture
) -> None:
    recording_hub.default = Answer(401, {"error": "Invalid callback token"})
    r = reporter(recording_hub, min_interval=0.0)
    with caplog.at_level(logging.ERROR, logger="meshprogress.worker"):
        r.update(5)
        recording_hub.wait_for(1)
        assert not r.close(timeout=5)
    assert "refused the callback token" in caplog.text and "secret-token" not in caplog.text
    with pytest.raises(CallbackAuthError):
        r.update(6)
    r.complete()  # nothing more is sent
    r.close(timeout=1)
    assert len(recording_hub.requests) == 1


def test_protocol_409_cancels_the_job_within_one_update(recording_hub: RecordingHub) -> None:
    recording_hub.default = CANCELLED
    r = reporter(recording_hub, min_interval=0.05)
    calls_after_the_cancel = 0
    with pytest.raises(JobCancelled, match="cancelled"):
        for step in range(100):
            r.update(step)
            if recording_hub.requests:
                calls_after_the_cancel += 1
            time.sleep(0.06)
    # The update whose post got the 409 returns; the one after it raises.
    assert calls_after_the_cancel <= 2 and r.cancelled
    assert len(recording_hub.requests) == 1
    with pytest.raises(JobCancelled):
        r.update(1)


def test_protocol_cancel_stops_stages_and_track_and_the_context_manager_reports_nothing_more(
    recording_hub: RecordingHub,
) -> None:
    r = reporter(recording_hub, min_interval=0.0)
    with pytest.raises(JobCancelled), r, r.stage("mesh", 0.5) as st:
        st.update(0.1)
        time.sleep(0.2)  # both reports sent (or merged into one)
        recording_hub.default = CANCELLED
        st.update(0.2)
        recording_hub.wait_for(len(recording_hub.requests) + 1)
        time.sleep(0.1)
        for _ in r.track(range(10)):
            pass
    assert [b["status"] for b in recording_hub.bodies()] == ["processing"] * len(recording_hub.requests)


def test_protocol_context_manager_reports_the_exception_or_completion_once(recording_hub: RecordingHub) -> None:
    with pytest.raises(ValueError), reporter(recording_hub) as r:
        r.update(30, "meshing")
        raise ValueError("the image is empty")
    final = recording_hub.bodies()[-1]
    assert final["status"] == "failed" and final["message"] == "the image is empty"
    assert final["progress"] == 30

    count = len(recording_hub.requests)
    with reporter(recording_hub) as r:
        r.complete(message="explicit")
    assert [b["message"] for b in recording_hub.bodies()[count:]] == ["explicit"]

    count = len(recording_hub.requests)
    with reporter(recording_hub):
        pass
    assert [b["status"] for b in recording_hub.bodies()[count:]] == ["completed"]


def test_protocol_rejected_reports_are_dropped_logged_once_and_later_ones_still_sent(
    recording_hub: RecordingHub, caplog: pytest.LogCaptureFixture
) -> None:
    recording_hub.answer(Answer(422, {"error": "message too long", "field": "message"}), Answer(422))
    r = reporter(recording_hub, min_interval=0.0)
    with caplog.at_level(logging.ERROR, logger="meshprogress.worker"):
        r.update(1)
        recording_hub.wait_for(1)
        time.sleep(0.05)
        r.update(2)
        recording_hub.wait_for(2)
        r.complete()
        assert r.close(timeout=5)
    assert len(recording_hub.requests) == 3  # no retries of a 422
    assert caplog.text.count("rejected a report") == 1


def test_protocol_long_messages_are_cut_to_what_the_hub_accepts(recording_hub: RecordingHub) -> None:
    r = reporter(recording_hub)
    r.fail("x" * 5000)
    assert r.close(timeout=5)
    assert len(recording_hub.bodies()[-1]["message"]) == 2000


def test_protocol_stages_follow_the_plan_in_declared_order(recording_hub: RecordingHub) -> None:
    r = reporter(recording_hub, min_interval=0.0)
    seen: list[float] = []
    r.plan({"load": 1, "mesh": 3})
    with r.stage("mesh") as st:  # runs first, but keeps its declared place
        seen.append(r._state["progress"])
        st.update(0.5)
        seen.append(r._state["progress"])
    with r.stage("load") as st:
        st.update(1.0)
        seen.append(r._state["progress"])  # never goes back
    assert seen == [25, 62.5, 100]
    with pytest.raises(ValueError, match="not in the plan"), r.stage("write"):
        pass
    r.close(timeout=5)


def test_protocol_stages_without_a_plan_accumulate_fractions_of_the_job(recording_hub: RecordingHub) -> None:
    r = reporter(recording_hub, min_interval=0.0)
    spans = []
    for name, weight in (("load", 0.1), ("mesh", 0.6), ("write", None)):
        with r.stage(name, weight) as st:
            spans.append((st.start, st.share))
            st.update(0.5)
    assert spans == [(0, 10), (10, 60), (70, 30)]
    assert r._state["progress"] == 100
    with pytest.raises(ValueError, match="fraction"), r.stage("more", 2):
        pass
    r.close(timeout=5)


def test_protocol_track_is_tqdm_like(recording_hub: RecordingHub) -> None:
    r = reporter(recording_hub, min_interval=0.0)
    r.plan({"load": 1, "mesh": 1})
    with r.stage("mesh") as st:
        values = []
        for _ in r.track(["a", "b", "c", "d"], desc="rows"):
            values.append(r._state["progress"])
        assert values == [50, 62.5, 75, 87.5] and r._state["message"] == "rows 4/4"
        with st.track(None, total=10) as bar:
            bar.set_description("chunks")
            bar.update(10)
        assert r._state["message"] == "chunks 10/10"
        for _ in r.track(iter(range(3))):  # no length: counts, without moving the bar
            pass
        assert r._state["message"] == "3" and r._state["progress"] == 100
    r.close(timeout=5)


def test_protocol_from_env(monkeypatch: pytest.MonkeyPatch, recording_hub: RecordingHub) -> None:
    for name in ("MESHPROGRESS_CALLBACK_URL", "MESHPROGRESS_JOB_ID", "MESHPROGRESS_CALLBACK_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="MESHPROGRESS_JOB_ID"):
        ProgressReporter.from_env()
    monkeypatch.setenv("MESHPROGRESS_CALLBACK_URL", recording_hub.url)
    monkeypatch.setenv("MESHPROGRESS_JOB_ID", "job-env")
    monkeypatch.setenv("MESHPROGRESS_CALLBACK_TOKEN", "env-token")
    r = ProgressReporter.from_env(min_interval=0.0)
    r.complete()
    assert r.close(timeout=5)
    request = recording_hub.requests[-1]
    assert request.body["job_id"] == "job-env" and request.headers["X-Callback-Token"] == "env-token"


def test_protocol_retry_after_accepts_seconds_and_http_dates() -> None:
    from email.utils import formatdate

    assert _retry_after("3") == 3 and _retry_after(None) is None and _retry_after("soon") is None
    assert 8 <= _retry_after(formatdate(time.time() + 10, usegmt=True)) <= 10
