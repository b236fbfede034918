"""The transition rules: terminal states final, progress monotone, versions increasing, seq dedupe."""

from __future__ import annotations

import pytest

from meshprogress_nb import state
from meshprogress_nb.models import Mesh, Status
from meshprogress_nb.state import Conflict, Report


def mesh(**fields) -> Mesh:
    return Mesh(id=1, user="alice", source="a.png", job_id="job-1", created_at=0.0, updated_at=0.0, **fields)


def test_first_report_starts_processing_and_bumps_version() -> None:
    updated = state.apply_report(mesh(), Report(progress=10, message="loading"), now=5.0)
    assert updated is not None
    assert (updated.status, updated.progress, updated.message) == (Status.PROCESSING, 10, "loading")
    assert updated.started_at == 5.0 and updated.updated_at == 5.0 and updated.version == 2


def test_progress_never_decreases_within_an_attempt() -> None:
    m = state.apply_report(mesh(), Report(progress=60), now=1.0)
    lower = state.apply_report(m, Report(progress=30, message="late"), now=2.0)
    assert lower.progress == 60 and lower.message == "late"


def test_completed_means_100_and_keeps_result_url() -> None:
    m = state.apply_report(mesh(), Report(progress=40), now=1.0)
    done = state.apply_report(m, Report(status=Status.COMPLETED, result_url="/r/1", quality={"cells": 3}), now=2.0)
    assert done.status is Status.COMPLETED and done.progress == 100 and done.result_url == "/r/1"
    assert done.quality == {"cells": 3}


@pytest.mark.parametrize("final", [Status.COMPLETED, Status.FAILED, Status.CANCELLED])
def test_terminal_states_refuse_reports(final: Status) -> None:
    with pytest.raises(Conflict) as caught:
        state.apply_report(mesh(status=final), Report(progress=50), now=1.0)
    assert caught.value.status is final


def test_duplicate_and_reordered_seq_are_ignored_even_after_the_end() -> None:
    m = state.apply_report(mesh(), Report(progress=10, seq=3), now=1.0)
    assert state.apply_report(m, Report(progress=90, seq=3), now=2.0) is None
    assert state.apply_report(m, Report(progress=90, seq=1), now=2.0) is None
    done = state.apply_report(m, Report(status=Status.COMPLETED, seq=4), now=3.0)
    assert state.apply_report(done, Report(status=Status.COMPLETED, seq=4), now=4.0) is None


def test_cancel_only_while_running() -> None:
    cancelled = state.cancel(mesh(), now=1.0)
    assert cancelled.status is Status.CANCELLED and cancelled.version == 2
    with pytest.raises(Conflict):
        state.cancel(cancelled, now=2.0)


def test_retry_opens_a_new_attempt_with_a_new_job_and_a_higher_version() -> None:
    failed = state.apply_report(mesh(), Report(status=Status.FAILED, progress=70, seq=9), now=1.0)
    again = state.retry(failed, "job-2", now=2.0)
    assert (again.status, again.progress, again.job_id, again.attempt) == (Status.PENDING, 0, "job-2", 2)
    assert again.version > failed.version and again.last_seq == -1 and again.started_at is None
    with pytest.raises(Conflict):
        state.retry(again, "job-3", now=3.0)
    with pytest.raises(Conflict):
        state.retry(mesh(status=Status.COMPLETED), "job-3", now=3.0)


def test_stall_fails_with_a_clear_message() -> None:
    running = state.apply_report(mesh(), Report(progress=5), now=1.0)
    stalled = state.stall(running, now=400.0, timeout=300)
    assert stalled.status is Status.FAILED and "300 s" in stalled.message


def test_member_delta_moves_counts_and_progress() -> None:
    old = mesh(batch_id=3)
    new = state.apply_report(old, Report(progress=25), now=1.0)
    delta = state.member_delta(old, new)
    assert delta.counts == {"pending": -1, "processing": 1} and delta.progress == 25 and delta.started_at == 1.0
    same = state.member_delta(new, state.apply_report(new, Report(progress=25), now=2.0))
    assert same.empty
