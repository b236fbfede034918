"""Saved notebooks that stay true, in a real JupyterLab and in Notebook 7, in Chromium: a job's output is live after
its kernel restarted and the page reloaded (never "model not found"), one connection indicator, and the saved static
rendering holds the last state the browser saw."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.lab import LabServer
from support.notebook_ui import (
    callback,
    job_notebook,
    open_ready,
    read_targets,
    run_all,
    save_until,
    start_lab,
    widget,
)

JOB_MIME = "application/vnd.meshprogress.job+json"


@pytest.fixture(scope="module", params=["jupyterlab", "notebook"])
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """Every test here runs in JupyterLab and in Notebook 7: both reload a saved notebook the same way."""
    server = start_lab(tmp_path_factory, request.param, app=request.param)
    yield server
    server.stop()


def restart_kernels(lab: LabServer) -> None:
    api = {"token": lab.token}
    for kernel in httpx.get(f"{lab.url}api/kernels", params=api, timeout=30).json():
        response = httpx.post(f"{lab.url}api/kernels/{kernel['id']}/restart", params=api, timeout=60)
        assert response.status_code == 200, response.text


def test_a_reopened_notebook_shows_its_job_live_after_a_kernel_restart(page: Page, lab: LabServer) -> None:
    path = job_notebook(
        lab.root,
        "reopened.ipynb",
        "import meshprogress_nb\njobs = meshprogress_nb.connect()\n"
        "job = jobs.submit('x.png', name='reopened job', dispatch=False)\n",
        records="[job.record]",
        targets="reopened-callback.json",
        show="job",
    )
    open_ready(page, lab, "reopened.ipynb")
    run_all(page)
    card = widget(page, "reopened job")
    expect(card).to_be_visible(timeout=60_000)
    # The first drawing is the state the kernel had (the job handle's record), not "Connecting…".
    expect(card.locator(".mp-Progress-status")).to_have_text("Queued", timeout=60_000)
    (target,) = read_targets(lab.root, "reopened-callback.json")
    callback(target, progress=40, message="meshing")
    expect(card.locator(".mp-Progress-percent")).to_have_text("40%", timeout=30_000)

    # Saved mid-run, the static rendering says 40% (the kernel rewrites it only when the job ends).
    def shows(text: str):  # noqa: ANN202
        return lambda outputs: any(text in o.get("data", {}).get("text/plain", "") for o in outputs)

    outputs = save_until(page, path, shows("40%"))
    (output,) = [o for o in outputs if JOB_MIME in o.get("data", {})]
    assert output["data"]["text/plain"].startswith("reopened job: 40%, Processing, meshing")
    assert f'data-mesh-id="{target["id"]}"' in output["data"]["text/html"]
    assert output["data"][JOB_MIME]["state"]["progress"] == 40

    # The kernel restarts: the widget stays live, with one indicator (no ipywidgets "disconnected" mark).
    restart_kernels(lab)
    callback(target, progress=55, message="smoothing")
    expect(card.locator(".mp-Progress-percent")).to_have_text("55%", timeout=30_000)
    expect(card).to_have_class(re.compile(r"\bmp-mod-connected\b"))
    assert page.locator(".jupyter-widgets-disconnected").count() == 0

    # Reopened without the widget's model: the saved output is shown live, as the job is now.
    open_ready(page, lab, "reopened.ipynb")
    card = widget(page, "reopened job")
    expect(card).to_be_visible(timeout=60_000)
    expect(page.get_by_text("model not found")).to_have_count(0)
    expect(card.locator(".mp-Progress-percent")).to_have_text("55%", timeout=30_000)
    expect(card).to_have_class(re.compile(r"\bmp-mod-connected\b"), timeout=30_000)
    callback(target, progress=80, message="writing")
    expect(card.locator(".mp-Progress-status")).to_have_text("Processing: writing", timeout=30_000)
    assert page.locator(".jupyter-widgets-disconnected").count() == 0

    # And what is saved now is that state.
    outputs = save_until(page, path, shows("80%"))
    (output,) = [o for o in outputs if JOB_MIME in o.get("data", {})]
    assert output["data"]["text/plain"].startswith("reopened job: 80%, Processing, writing")
    callback(target, status="completed", result_url="/r.ply")
    expect(card).to_have_class(re.compile(r"\bmp-mod-completed\b"), timeout=30_000)
