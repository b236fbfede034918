"""What the browser tests do in JupyterLab as a user would: write and open notebooks, run them, find the widgets and
the sidebar, post a worker's callbacks, save, switch themes; in a Jupyter of their own (tests/ui) or in a hub user's
server (tests/jupyterhub)."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from meshprogress_nb.demo import workspace

from .lab import CHECKOUT_BUILD, CHROMIUM, CHROMIUM_ARGS, LabServer
from .requirements import missing


def need_browser() -> None:
    """Chromium and this checkout's built front end, or the test is skipped (failed under MESHPROGRESS_REQUIRE_ALL)."""
    if not os.path.exists(CHROMIUM):
        missing(f"{CHROMIUM} (apt-get install chromium)")
    if not (CHECKOUT_BUILD / "package.json").is_file():
        missing("the built front end (cd labextension && jlpm install && jlpm build)")


def start_lab(tmp_path_factory: pytest.TempPathFactory, name: str, app: str = "jupyterlab") -> LabServer:
    """A server with this checkout's front end on the demo workspace, once Chromium and the build are there."""
    need_browser()
    return LabServer(workspace(tmp_path_factory.mktemp(name)), app=app).start()


@contextlib.contextmanager
def chromium_page(args: list[str] = CHROMIUM_ARGS) -> Iterator[Page]:
    """A page of a fresh headless Chromium that accepts dialogs and prints the console's errors."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("console", lambda message: message.type == "error" and print("console:", message.text))
        yield page
        browser.close()


def write_notebook(path: Path, *sources: str) -> Path:
    """A notebook of these code cells, on the Python 3 kernel."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(notebook, path)
    return path


def open_notebook(page: Page, lab: LabServer, name: str) -> None:
    """Open (or reload) a notebook in the server's app: JupyterLab or Notebook 7 (one notebook per page)."""
    if lab.app == "notebook":
        page.goto(f"{lab.url}notebooks/{name}?token={lab.token}")
    else:
        # `reset`: a clean workspace, not the notebooks an earlier test left open.
        page.goto(f"{lab.url}lab/tree/{name}?token={lab.token}&reset")
    wait_for_notebook(page)


def wait_for_notebook(page: Page) -> None:
    """Once JupyterLab shows the notebook just opened and its kernel."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle'], .jp-Toolbar-kernelStatus, .jp-KernelStatus",
        timeout=90_000,
    )
    time.sleep(2)  # the kernel connects


def run_all(page: Page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def widget(page: Page, title: str):  # noqa: ANN201
    return page.locator(".mp-Progress", has=page.locator(".mp-Progress-title", has_text=title)).first


def value(locator) -> float:  # noqa: ANN001
    return float(locator.locator("[role=progressbar]").first.get_attribute("aria-valuenow") or 0)


KERNEL_BUSY = (
    "!!document.querySelector('.jp-Notebook-ExecutionIndicator[data-status=\"busy\"]')"
    " || [...document.querySelectorAll('.jp-InputPrompt')].some(e => e.textContent.includes('[*]'))"
)
"""A JavaScript expression: whether the notebook's kernel is running a cell."""


def kernel_busy(page: Page) -> bool:
    return page.evaluate(f"() => {KERNEL_BUSY}")


def record_bars(page: Page) -> None:
    """From now on, keep every value any widget's bar shows, with its title and whether the kernel was busy
    (in ``window.__bars``): a fast job's few updates are all seen, however briefly each was shown."""
    page.evaluate(
        """() => {
          window.__bars = [];
          new MutationObserver(records => {
            for (const record of records) {
              const title = record.target.closest('.mp-Progress')?.querySelector('.mp-Progress-title')?.textContent;
              const value = Number(record.target.getAttribute('aria-valuenow'));
              window.__bars.push([title ?? '', value, BUSY]);
            }
          }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'] });
        }""".replace("BUSY", KERNEL_BUSY)
    )


def recorded_bars(page: Page, title: str) -> list[tuple[float, bool]]:
    """The values :func:`record_bars` saw on the bar of the widget titled ``title``, in order."""
    return [(value, busy) for name, value, busy in page.evaluate("() => window.__bars") if name == title]


def open_panel(page: Page):  # noqa: ANN201
    """Open the "Mesh jobs" sidebar panel (left area) by its tab, unless it is open already."""
    tab = page.locator(".jp-SideBar .lm-TabBar-tab[data-id='meshprogress-jobs']")
    expect(tab).to_be_visible(timeout=60_000)
    panel = page.locator("#meshprogress-jobs")
    if not panel.is_visible():
        tab.click()
    expect(panel).to_be_visible(timeout=30_000)
    return panel


def dump_targets(records: str, file: str) -> str:
    """Notebook source that writes the callback target (url, token, job_id, id) of each job record in the
    expression ``records`` to ``file``: the test then posts as those jobs' worker."""
    return (
        "import json\n"
        f"with open({file!r}, 'w') as f:\n"
        f"    json.dump([{{**r['callback'], 'job_id': r['job_id'], 'id': r['id']}} for r in {records}], f)\n"
    )


def forget_targets(root: Path, file: str) -> None:
    """Remove what an earlier run of the notebook (in the server's ``root``) wrote, before running it again."""
    (root / file).unlink(missing_ok=True)


def job_notebook(root: Path, name: str, setup: str, *, records: str, targets: str, show: str) -> Path:
    """The notebook ``name`` in the server's ``root``, of one cell: ``setup`` (which submits jobs), then the
    callback targets of the job records ``records`` written to ``targets`` (removed now, so that
    :func:`read_targets` waits for this run's), then ``show`` as the cell's result."""
    forget_targets(root, targets)
    return write_notebook(root / name, setup + dump_targets(records, targets) + show)


def read_targets(root: Path, file: str, timeout: float = 90) -> list[dict]:
    """The targets :func:`dump_targets` wrote in the server's ``root``, once the kernel has written them."""
    path = root / file
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"the notebook never wrote {file}"
        time.sleep(0.2)
    return json.loads(path.read_text())


def callback(target: dict, **fields: object) -> None:
    """Post as the job's worker: its callback URL and token, nothing else."""
    response = httpx.post(
        target["url"],
        json={"job_id": target["job_id"], **fields},
        headers={"X-Callback-Token": target["token"]},
        timeout=30,
    )
    assert response.status_code == 202, response.text


def saved_outputs(path: Path) -> list[dict]:
    return [o for cell in nbformat.read(path, 4).cells for o in cell.get("outputs", [])]


def save_until(page: Page, path: Path, condition, timeout: float = 60) -> list[dict]:  # noqa: ANN001
    """Save the notebook (Ctrl+S) until its file satisfies ``condition``: the kernel rewrites outputs when idle."""
    deadline = time.monotonic() + timeout
    while True:
        page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.keyboard.press("Control+s")
        time.sleep(1)
        outputs = saved_outputs(path)
        if condition(outputs) or time.monotonic() > deadline:
            return outputs


def set_theme(lab: LabServer, theme: str) -> None:
    response = httpx.put(
        f"{lab.url}lab/api/settings/@jupyterlab/apputils-extension:themes",
        json={"raw": json.dumps({"theme": theme})},
        headers={"Authorization": f"token {lab.token}"},
        timeout=30,
    )
    assert response.status_code == 204, response.text


def open_ready(page: Page, lab: LabServer, name: str) -> None:
    """Open a notebook; a loaded machine can make JupyterLab ask for the kernel: take the preferred one."""
    open_notebook(page, lab, name)
    take_preferred_kernel(page)


def take_preferred_kernel(page: Page) -> None:
    """Accept JupyterLab's kernel dialog, if a loaded machine made it ask."""
    with contextlib.suppress(PlaywrightTimeout):
        page.locator(".jp-Dialog .jp-mod-accept").first.click(timeout=5_000)


def create_batch(lab: LabServer, name: str, sources: list[str]) -> tuple[int, list[dict]]:
    """A batch created through the REST API and not dispatched: its id, and the callback target of each member in
    batch order, so the test posts as their worker."""
    response = httpx.post(
        f"{lab.url}meshprogress/api/v1/batches",
        json={"sources": sources, "name": name, "dispatch": False},
        params={"token": lab.token},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    batch = response.json()
    return batch["id"], [{**m["callback"], "job_id": m["job_id"], "id": m["id"]} for m in batch["meshes"]]


def check_batch_members_in_sidebar(page: Page, lab: LabServer, panel) -> None:  # noqa: ANN001 - a Locator
    """In the open sidebar ``panel``: a batch row expands (by keyboard) to its members with their statuses, the
    completed member's result link downloads the result, and the members follow the batch live."""
    # A fourth member never reports: the batch stays active, out of the Recent list other tests count.
    batch_id, (done, broken, waiting, _still) = create_batch(
        lab, "member batch", ["done.png", "broken.png", "waiting.png", "still.png"]
    )
    (lab.root / "member-result.ply").write_text("ply\n")
    callback(done, status="completed", result_url="/files/member-result.ply")
    callback(broken, status="failed", message="<b>bad</b> image")

    row = panel.locator(f".mp-JobRow[data-key='batch:{batch_id}']")
    toggle = row.locator(".mp-JobRow-expand")
    expect(toggle).to_have_attribute("aria-expanded", "false", timeout=30_000)
    expect(toggle).to_have_attribute("aria-label", "Show the meshes of member batch")
    toggle.scroll_into_view_if_needed()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    members = page.locator(f"#{toggle.get_attribute('aria-controls')}")
    member = {
        target["id"]: members.locator(f".mp-Progress-member[data-mesh-id='{target['id']}']")
        for target in (done, broken, waiting)
    }
    expect(member[done["id"]]).to_have_attribute("data-status", "completed")
    expect(member[broken["id"]]).to_have_attribute("data-status", "failed")
    expect(member[waiting["id"]]).to_have_attribute("data-status", "pending")
    expect(member[broken["id"]].locator(".mp-Progress-memberStatus")).to_have_text("Failed: <b>bad</b> image")
    for target, name in ((done, "done.png"), (broken, "broken.png"), (waiting, "waiting.png")):
        expect(member[target["id"]].locator(".mp-Progress-memberName")).to_have_text(name)
        expect(member[target["id"]].locator(".mp-JobRow-memberId")).to_have_text(f"#{target['id']}")
    assert members.locator("b").count() == 0, "worker text stays text"
    expect(member[broken["id"]].locator(".mp-Progress-memberResult")).to_be_hidden()
    expect(member[waiting["id"]].locator(".mp-Progress-memberResult")).to_be_hidden()
    link = member[done["id"]].locator(".mp-Progress-memberResult")
    expect(link).to_have_attribute("href", "/files/member-result.ply")
    link.scroll_into_view_if_needed()
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_text() == "ply\n"

    # A failed member shows why it failed; a completed one opens the widget's preview panel, by keyboard too.
    preview = members.locator(".mp-Preview")
    expect(preview).to_be_hidden()
    member[broken["id"]].click()
    expect(preview).to_be_hidden()
    expect(members.locator(".mp-Progress-memberFailure")).to_have_text("broken.png failed: <b>bad</b> image")
    member[done["id"]].focus()
    page.keyboard.press("Enter")
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("data-mesh-id", str(done["id"]))
    expect(member[done["id"]]).to_have_attribute("aria-selected", "true")
    expect(members.locator(".mp-Progress-memberFailure")).to_be_hidden()

    # Live: the member's report changes the batch's counts on its channel, and the members are read again.
    callback(waiting, status="completed", result_url="/files/member-result.ply")
    expect(member[waiting["id"]]).to_have_attribute("data-status", "completed")
    expect(member[waiting["id"]].locator(".mp-Progress-memberResult")).to_be_visible()

    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(members).to_have_count(0)
