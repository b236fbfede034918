"""Kernel mode: the widgets drive standard ipywidgets from a kernel thread polling a real hub (no browser)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import ipywidgets
import pytest

import meshprogress_nb
from meshprogress_nb.notebook.client import Jobs
from meshprogress_nb.notebook.widgets import BatchProgressWidget, ProgressWidget
from meshprogress_nb.notebook.widgets.kernel_mode import MODE_ENV, poller, resolve_mode
from support.clients import worker_report
from support.server import HubServer

XSS = '<img src=x onerror="window.__xss=1">'


def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for the poller thread (generous: other suites share the machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def shown(widget: ipywidgets.Widget) -> bool:
    return widget.layout.display != "none"


@pytest.mark.parametrize("mode", ["frontend", "kernel"])
def test_explicit_modes_win(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setenv(MODE_ENV, "kernel" if mode == "frontend" else "frontend")
    monkeypatch.setenv("VSCODE_PID", "1")
    assert resolve_mode(mode) == mode


def test_auto_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (MODE_ENV, "VSCODE_PID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert resolve_mode("auto") == "frontend", "JupyterLab / Notebook 7 with the extension"
    monkeypatch.setenv("VSCODE_PID", "4242")
    assert resolve_mode() == "kernel", "VS Code cannot load a JupyterLab extension"
    monkeypatch.delenv("VSCODE_PID")
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    assert resolve_mode() == "kernel", "nor can Colab"
    monkeypatch.setenv(MODE_ENV, "Frontend ")
    assert resolve_mode() == "frontend", "the environment variable overrides the guess"
    with pytest.raises(ValueError, match="mode must be"):
        resolve_mode("browser")


def test_kernel_mode_shows_standard_widgets_only() -> None:
    w = ProgressWidget(7, mode="kernel", jobs=meshprogress_nb.connect("http://127.0.0.1:9/", "x"))
    try:
        assert w.mode == "kernel" and w.comm is None, "no model of the meshprogress-nb module is created"
        box = w._kernel_view.box
        assert isinstance(box, ipywidgets.VBox)
        bundle = w._repr_mimebundle_()
        assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == box.model_id
        modules = {c._model_module for c in box.children} | {box._model_module}
        assert modules <= {"@jupyter-widgets/controls", "@jupyter-widgets/base"}
        assert bundle["text/plain"] == "Mesh 7: 0%, Connecting…"
    finally:
        w.close()


def test_kernel_mode_follows_a_mesh_and_its_buttons_act(jobs: Jobs) -> None:
    job = jobs.submit("x.png", name="kernel job", dispatch=False)
    w = ProgressWidget(job.id, mode="kernel", jobs=jobs)
    view = w._kernel_view
    try:
        until(lambda: w.connected and w.status == "pending")
        assert "kernel job" in view.title.value and "live" in view.title.value
        assert shown(view.cancel_button) and not shown(view.retry_button)

        worker_report(job.record, progress=40, message="meshing")
        until(lambda: w.progress == 40)
        assert (w.status, w.message) == ("processing", "meshing")
        assert (view.bar.value, view.bar.bar_style) == (40.0, "info")
        assert "40% · Processing: meshing" in view.info.value

        worker_report(job.record, progress=45, message=XSS)
        until(lambda: w.progress == 45)
        assert "<img" not in view.info.value
        assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in view.info.value
        assert "<img" not in w._repr_mimebundle_()["text/html"]

        view.cancel_button.click()
        assert w.status == "cancelled" and jobs.mesh(job.id).record["status"] == "cancelled"
        assert view.bar.bar_style == "warning"
        assert shown(view.retry_button) and not shown(view.cancel_button)
        view.cancel_button.click()  # a second click after the fact: the hub's 409 is shown, not raised
        assert "409" in w.error and "409" in view.error.value

        view.retry_button.click()
        assert w.status == "pending" and w.error == ""
        retried = jobs.mesh(job.id).record
        assert retried["attempt"] == 2
    finally:
        w.close()


def test_kernel_mode_switches_ids(jobs: Jobs) -> None:
    first = jobs.submit("a.png", name="first", dispatch=False)
    second = jobs.submit("b.png", name="second", dispatch=False)
    worker_report(first.record, progress=80)
    for _ in range(3):
        worker_report(first.record, progress=90)  # a higher version than the second job's
    w = ProgressWidget(first.id, mode="kernel", jobs=jobs)
    try:
        until(lambda: w.progress == 90)
        w.mesh_id = second.id
        until(lambda: w.name == "second")
        assert (w.status, w.progress) == ("pending", 0.0)
        time.sleep(1.5)  # a read of the old id still in flight must not come back
        assert w.name == "second"
    finally:
        w.close()


def test_kernel_mode_batch_lists_failed_and_processing_members(jobs: Jobs) -> None:
    batch = jobs.submit_batch([f"{i}.png" for i in range(5)], name="five", dispatch=False)
    meshes = batch.record["meshes"]
    w = BatchProgressWidget(batch.id, mode="kernel", jobs=jobs)
    view = w._kernel_view
    try:
        until(lambda: w.total == 5 and w.connected)
        worker_report(meshes[3], status="failed", message=XSS)
        worker_report(meshes[1], progress=30, message="meshing")
        worker_report(meshes[0], status="completed")
        # One poll reads the batch and then its members: wait until both reflect all three reports.
        until(lambda: [m["status"] for m in w.meshes] == ["failed", "processing"] and w.completed == 1)
        assert [m["mesh_id"] for m in w.meshes] == [meshes[3]["id"], meshes[1]["id"]]
        assert w.counts_text() == "1 completed, 1 failed of 5"
        assert "1 completed, 1 failed of 5" in view.counts.value
        assert "Failed: &lt;img" in view.members.value and "<img" not in view.members.value
        assert "and 3 more meshes: 2 pending, 1 completed" in view.members.value
        assert shown(view.cancel_button) and not shown(view.retry_button)
        view.cancel_button.click()
        assert w.status == "failed" and w.cancelled == 3
        assert shown(view.retry_button)
    finally:
        w.close()


def test_kernel_mode_finds_members_as_the_browser_does_for_an_admin(jobs: Jobs, hub: HubServer) -> None:
    """An admin's widget on alice's batch: the admin's own job lists hold none of its members."""
    batch = jobs.submit_batch([f"{i}.png" for i in range(3)], name="three", dispatch=False)
    meshes = batch.record["meshes"]
    worker_report(meshes[2], status="failed", message="bad input")
    admin = meshprogress_nb.connect(hub.url, "admin-token")
    w = BatchProgressWidget(batch.id, mode="kernel", jobs=admin)
    try:
        until(lambda: [m["mesh_id"] for m in w.meshes] == [meshes[2]["id"]])
    finally:
        w.close()


def test_kernel_mode_says_when_the_hub_is_unreachable() -> None:
    w = ProgressWidget(5, mode="kernel", jobs=meshprogress_nb.connect("http://127.0.0.1:9/", "x"))
    try:
        until(lambda: w.error.startswith("Hub unreachable"))
        assert not w.connected
        assert "not connected" in w._kernel_view.title.value
        assert "Hub unreachable" in w._kernel_view.error.value
    finally:
        w.close()


def test_closing_stops_the_polling(jobs: Jobs) -> None:
    w = ProgressWidget(jobs.submit("x.png", dispatch=False).id, mode="kernel", jobs=jobs)
    assert w in poller()
    w.close()
    assert w not in poller()
    assert w._kernel_view is None
