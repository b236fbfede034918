"""``meshprogress_nb.connect()`` and job handles, as a notebook uses them, against a real hub."""

from __future__ import annotations

import pytest

import meshprogress_nb
from meshprogress_nb.notebook.client import HubError, find_server
from support.server import HubServer


def test_connect_finds_the_server_from_the_extensions_environment(
    monkeypatch: pytest.MonkeyPatch, hub: HubServer
) -> None:
    monkeypatch.setenv("MESHPROGRESS_SERVER_URL", hub.url)
    monkeypatch.setenv("MESHPROGRESS_SERVER_TOKEN", "alice-token")
    assert find_server().url == hub.url
    jobs = meshprogress_nb.connect()
    job = jobs.submit("images/a.png", dispatch=False, mode="heightfield")
    assert job.status == "pending" and job.progress == 0 and job.record["params"] == {"mode": "heightfield"}
    assert job.cancel()["status"] == "cancelled"
    with pytest.raises(HubError) as caught:
        job.cancel()
    assert caught.value.status == 409
    assert job.retry()["attempt"] == 2
    assert job.id in [j.id for j in jobs.list(status="pending")]


def test_handles_wait_and_time_out(hub: HubServer) -> None:
    jobs = meshprogress_nb.connect(hub.url, "alice-token")
    batch = jobs.submit_batch(["a.png", "b.png"], dispatch=False, name="tour")
    assert batch.status == "pending" and len(batch.meshes) == 2
    with pytest.raises(TimeoutError):
        batch.wait(timeout=0.5, poll=0.1)
    batch.cancel()
    assert batch.wait(timeout=5) == "cancelled"
    assert jobs.batch(batch.id).record["name"] == "tour"
    assert "ProgressWidget" in type(jobs.mesh(batch.meshes[0].id).widget()).__name__


def test_errors_from_the_hub_are_raised_with_their_message(hub: HubServer) -> None:
    jobs = meshprogress_nb.connect(hub.url, "bob-token")
    with pytest.raises(HubError, match="404: Mesh 999999 not found"):
        jobs.mesh(999999)


@pytest.mark.parametrize("hub", ["embedded"], indirect=True)
def test_a_handles_widget_starts_from_the_state_the_kernel_has(hub: HubServer) -> None:
    """Its first drawing is the job's state, not "Connecting…" until the browser hears from the hub."""
    jobs = meshprogress_nb.connect(hub.url, "alice-token")
    batch = jobs.submit_batch(["a.png", "b.png"], dispatch=False, name="seeded")
    w = batch.widget()
    assert (w.status, w.total, w.name) == ("pending", 2, "seeded") and w.version > 0
    mesh = jobs.mesh(batch.meshes[0].id).widget()
    assert mesh.status == "pending" and mesh.summary().endswith("0%, Queued")
