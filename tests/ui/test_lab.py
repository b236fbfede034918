"""The widgets in a real JupyterLab, in a real browser: live while the kernel is busy, Cancel, Retry, batches,
worker text shown as text. Ends with a screenshot of the finished widgets in docs/."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from meshprogress_nb.demo import workspace
from support.lab import CHROMIUM, CHROMIUM_ARGS, LabServer

DOCS = Path(__file__).resolve().parents[2] / "docs"
SLOW = 200_000  # smoothing iterations: a job that runs long enough to be cancelled


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is required (apt-get install chromium)")
    root = workspace(tmp_path_factory.mktemp("lab"))
    server = LabServer(root).start()
    yield server
    server.stop()


@pytest.fixture
def page(lab: LabServer) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        yield page
        browser.close()


def open_notebook(page: Page, lab: LabServer, name: str) -> None:
    page.goto(f"{lab.url}lab/tree/{name}?token={lab.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle'], "
                           ".jp-Toolbar-kernelStatus, .jp-KernelStatus", timeout=90_000)
    time.sleep(2)  # the kernel connects


def run_all(page: Page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def widget(page: Page, title: str):  # noqa: ANN201
    return page.locator(".mp-Progress", has=page.locator(".mp-Progress-title", has_text=title)).first


def value(locator) -> float:  # noqa: ANN001
    return float(locator.locator("[role=progressbar]").first.get_attribute("aria-valuenow") or 0)


def kernel_busy(page: Page) -> bool:
    return page.evaluate(
        "() => !!document.querySelector('.jp-Notebook-ExecutionIndicator[data-status=\"busy\"]')"
        " || [...document.querySelectorAll('.jp-InputPrompt')].some(e => e.textContent.includes('[*]'))"
    )


def test_demo_notebook_moves_while_the_kernel_sleeps_and_finishes(page: Page, lab: LabServer) -> None:
    open_notebook(page, lab, "demo.ipynb")
    run_all(page)
    single = widget(page, "terrain (single)")
    expect(single).to_be_visible(timeout=60_000)
    samples: list[tuple[float, bool]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (samples and samples[-1][0] >= 100):
        samples.append((value(single), kernel_busy(page)))
        time.sleep(0.25)
    busy_values = [v for v, busy in samples if busy]
    assert len(set(busy_values)) >= 3, f"the bar did not advance while the kernel was busy: {samples}"
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mp-Progress')].some(e => e.textContent.includes('terrain (single)')"
        " && e.className.includes('mp-mod-completed'))", timeout=120_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mp-Progress')].some(e => e.querySelector('.mp-Progress-members')"
        " && e.className.includes('mp-mod-completed'))", timeout=180_000)
    assert "mp-mod-completed" in (single.get_attribute("class") or "")
    boxes = [box for box in (w.bounding_box() for w in page.locator(".jp-OutputArea-output .mp-Progress").all()) if box]
    top, bottom = min(b["y"] for b in boxes), max(b["y"] + b["height"] for b in boxes)
    left, right = min(b["x"] for b in boxes), max(b["x"] + b["width"] for b in boxes)
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "widgets.png"),
                    clip={"x": left - 12, "y": top - 12, "width": right - left + 24, "height": bottom - top + 24})


def test_cancel_and_retry_from_the_widget_and_text_stays_text(page: Page, lab: LabServer) -> None:
    images = sorted((lab.root / "images").glob("*.png"))
    late = lab.root / "images" / "arrives-later.png"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in (
        "import meshprogress_nb\njobs = meshprogress_nb.connect()\n"
        f"slow = jobs.submit({str(images[0])!r}, name='slow job', smooth_iterations={SLOW})\nslow",
        f"late = jobs.submit({str(late)!r}, name='late image')\nlate",
        "quiet = jobs.submit('x.png', name='worker text', dispatch=False)\nquiet",
    )]
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(notebook, lab.root / "controls.ipynb")
    open_notebook(page, lab, "controls.ipynb")
    run_all(page)

    slow = widget(page, "slow job")
    expect(slow.locator(".mp-Progress-cancel")).to_be_visible(timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mp-Progress')].some(e => e.textContent.includes('slow job')"
        " && e.className.includes('mp-mod-processing'))", timeout=60_000)
    slow.locator(".mp-Progress-cancel").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mp-Progress')].some(e => e.textContent.includes('slow job')"
        " && e.className.includes('mp-mod-cancelled'))", timeout=30_000)

    late_widget = widget(page, "late image")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mp-Progress')].some(e => e.textContent.includes('late image')"
        " && e.className.includes('mp-mod-failed'))", timeout=60_000)
    late.write_bytes(images[1].read_bytes())
    late_widget.locator(".mp-Progress-retry").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mp-Progress')].some(e => e.textContent.includes('late image')"
        " && e.className.includes('mp-mod-completed'))", timeout=120_000)

    # A worker's message with markup is shown as text: no element is created, no script runs.
    jobs = httpx.get(f"{lab.url}meshprogress/api/v1/meshes", params={"token": lab.token}).json()["meshes"]
    quiet = next(m for m in jobs if m["name"] == "worker text")
    cancel = httpx.post(f"{lab.url}meshprogress/api/v1/meshes/{quiet['id']}/cancel", params={"token": lab.token})
    assert cancel.status_code == 200
    retried = httpx.post(f"{lab.url}meshprogress/api/v1/meshes/{quiet['id']}/retry", params={"token": lab.token}).json()
    payload = "<img src=x onerror=\"window.__xss=1\">"
    response = httpx.post(retried["callback"]["url"], json={"job_id": retried["job_id"], "progress": 50,
                                                             "message": payload},
                          headers={"X-Callback-Token": retried["callback"]["token"]})
    assert response.status_code == 202
    quiet_widget = widget(page, "worker text")
    expect(quiet_widget).to_contain_text(payload, timeout=30_000)
    assert quiet_widget.locator("img").count() == 0
    assert page.evaluate("() => window.__xss") is None
