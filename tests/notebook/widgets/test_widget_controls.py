"""``w.cancel()``, ``w.retry()`` and ``w.refresh()`` from Python, against a real hub (both backends)."""

from __future__ import annotations

import pytest

import meshprogress_nb
from meshprogress_nb.notebook.client import HubError, Jobs
from meshprogress_nb.notebook.widgets import BatchProgressWidget, ProgressWidget
from support.clients import worker_report
from support.server import HubServer


def test_cancel_and_retry_a_mesh_from_python(jobs: Jobs) -> None:
    job = jobs.submit("x.png", name="controlled", dispatch=False)
    worker_report(job.record, progress=20, message="meshing")
    w = ProgressWidget(job.id, mode="frontend", jobs=jobs)
    assert w.can_cancel is False, "nothing applied yet"

    record = w.cancel()
    assert record["status"] == "cancelled"
    assert (w.status, w.name, w.progress, w.version) == ("cancelled", "controlled", 20.0, record["version"])
    assert (w.can_cancel, w.can_retry, w.done) == (False, True, True)
    assert jobs.mesh(job.id).record["status"] == "cancelled"

    with pytest.raises(HubError) as caught:
        w.cancel()
    assert caught.value.status == 409
    assert w.status == "cancelled"

    retried = w.retry()
    assert (retried["status"], retried["attempt"]) == ("pending", 2)
    assert (w.status, w.progress, w.message, w.version) == ("pending", 0.0, retried["message"], retried["version"])
    assert w.can_cancel and not w.can_retry
    worker_report(retried, progress=70, message="smoothing")
    assert w.refresh()["progress"] == 70
    assert (w.status, w.progress, w.message) == ("processing", 70.0, "smoothing")
    assert "Est." not in w.summary() or w.estimated_remaining is not None


def test_retry_is_refused_while_the_job_runs(jobs: Jobs) -> None:
    w = ProgressWidget(jobs.submit("x.png", dispatch=False).id, mode="frontend", jobs=jobs)
    with pytest.raises(HubError) as caught:
        w.retry()
    assert caught.value.status == 409


def test_cancel_and_retry_a_batch_from_python(jobs: Jobs) -> None:
    batch = jobs.submit_batch(["a.png", "b.png", "c.png"], name="trio", dispatch=False)
    worker_report(batch.record["meshes"][0], status="completed")
    w = BatchProgressWidget(batch.id, mode="frontend", jobs=jobs)
    record = w.cancel()
    assert record["cancelled"] == 2
    assert (w.status, w.total, w.completed, w.cancelled, w.pending) == ("completed", 3, 1, 2, 0)
    assert w.can_retry and not w.can_cancel
    w.retry()
    assert (w.status, w.completed, w.cancelled, w.pending) == ("processing", 1, 0, 2)
    assert w.summary().startswith("trio: ")


def test_actions_find_the_hub_from_the_kernels_environment(monkeypatch: pytest.MonkeyPatch, hub: HubServer) -> None:
    monkeypatch.setenv("MESHPROGRESS_SERVER_URL", hub.url)
    monkeypatch.setenv("MESHPROGRESS_SERVER_TOKEN", "alice-token")
    job = meshprogress_nb.connect().submit("x.png", dispatch=False)
    w = ProgressWidget(job.id, mode="frontend")
    assert w.cancel()["status"] == "cancelled"
    assert w.status == "cancelled"


def test_another_users_job_is_not_found(hub: HubServer, jobs: Jobs) -> None:
    job = jobs.submit("x.png", dispatch=False)
    w = ProgressWidget(job.id, mode="frontend", jobs=meshprogress_nb.connect(hub.url, "bob-token"))
    with pytest.raises(HubError) as caught:
        w.cancel()
    assert caught.value.status == 404
    assert w.status == ""
    assert jobs.mesh(job.id).record["status"] == "pending"


def test_an_action_needs_an_id() -> None:
    with pytest.raises(ValueError, match="no mesh_id"):
        ProgressWidget(mode="frontend").cancel()


def test_a_queued_front_end_update_does_not_roll_back_an_action(jobs: Jobs) -> None:
    """The browser's update may be queued while ``w.cancel()`` runs; once handled it must not undo it."""
    job = jobs.submit("x.png", dispatch=False)
    w = ProgressWidget(job.id, mode="frontend", jobs=jobs)
    record = w.cancel()
    w.set_state({"status": "pending", "progress": 0.0, "version": record["version"] - 1, "connected": True})
    assert (w.status, w.version, w.connected) == ("cancelled", record["version"], True)
    w.set_state({"status": "failed", "version": record["version"] + 1})
    assert w.status == "failed", "a newer one applies"


def test_payloads_of_another_id_or_older_version_are_dropped() -> None:
    w = ProgressWidget(7, mode="frontend")
    payload = {"mesh_id": 7, "status": "processing", "progress": 250, "version": 3, "estimated_remaining": -1}
    assert w.apply_payload(payload)
    assert (w.progress, w.estimated_remaining) == (100.0, None)
    assert not w.apply_payload(payload)
    assert not w.apply_payload({**payload, "mesh_id": 8, "version": 9})
    assert not w.apply_payload({**payload, "status": "exploded", "version": 9})
    assert not w.apply_payload({**payload, "version": "9"})
    assert not w.apply_payload(None)
