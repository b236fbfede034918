"""Many live widgets in a real JupyterLab and Chromium: long tasks and input delay while their jobs report.

For each count of widgets (50, 100, 200) a notebook displays that many ``ProgressWidget``s (25 per cell, under
JupyterLab's 50-output cap), and every job reports through the callback API at ``--hz`` (10 by default; wrk,
paced). Measured in the same run, first with the page idle (widgets shown, no reports), then under load: long
tasks (PerformanceObserver ``longtask``); the time from a press on the File menu to the menu on screen as the
browser measures it (Event Timing: the press's hardware time to the next paint after its handlers, the frame that
draws the menu); the same opening timed from outside the page through Playwright, two ways in turn: a mouse
press at the label's place, and Playwright's ``click()`` (which adds its actionability checks in the page
first); both add the driver's round trips, slowed by a loaded machine; and each click's time to the next paint.
``--quick``: a short check (50 widgets, 10 s).

    PYTHONPATH=. python bench/browser_widgets.py [--counts 50,100,200] [--seconds 60] [--quick]

Prints a Markdown table (docs/benchmarks.md) and writes the JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import nbformat

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))

from measure import WrkCallbacks  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from meshprogress_nb.demo import workspace  # noqa: E402
from support.lab import CHROMIUM, CHROMIUM_ARGS, LabServer  # noqa: E402

PER_CELL = 25
OBSERVERS = """() => {
  window.__long = [];
  window.__clicks = [];
  window.__opens = {};
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) window.__long.push(entry.duration);
  }).observe({ type: 'longtask' });
  // Event Timing: from an event's hardware time to the next paint after its handlers (reported from 16 ms up).
  // The File menu opens in its press handler (pointerdown/mousedown) and draws its items in that frame, so the
  // press's duration is the time to the menu on screen; one press's entries share their start time.
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) {
      if (entry.name === 'click') window.__clicks.push(entry.duration);
      const press = entry.name === 'pointerdown' || entry.name === 'mousedown';
      if (press && entry.target && entry.target.closest && entry.target.closest('.lm-MenuBar')) {
        const key = Math.round(entry.startTime);
        window.__opens[key] = Math.max(window.__opens[key] || 0, entry.duration);
      }
    }
  }).observe({ type: 'event', durationThreshold: 16 });
}"""
TAKE = """() => {
  const opens = Object.values(window.__opens);
  window.__opens = {};
  return [window.__long.splice(0), window.__clicks.splice(0), opens];
}"""


def create_jobs(lab: LabServer, count: int) -> list[dict[str, Any]]:
    with httpx.Client(base_url=lab.url, params={"token": lab.token}, timeout=60) as client:
        jobs = []
        for i in range(count):
            response = client.post(
                "meshprogress/api/v1/meshes", json={"source": f"s{i}.png", "name": f"w{i:03d}", "dispatch": False}
            )
            response.raise_for_status()
            mesh = response.json()
            jobs.append({**mesh["callback"], "job_id": mesh["job_id"], "id": mesh["id"]})
    return jobs


def write_notebook(path: Path, ids: list[int]) -> None:
    notebook = nbformat.v4.new_notebook()
    cells = ["import meshprogress_nb\nfrom IPython.display import display\njobs = meshprogress_nb.connect()"]
    for start in range(0, len(ids), PER_CELL):
        cells.append(f"for i in {ids[start : start + PER_CELL]}:\n    display(jobs.mesh(i).widget())")
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(notebook, path)


def dismiss_dialogs(page: Page) -> None:
    accept = page.locator(".jp-Dialog .jp-mod-accept")
    while accept.count():
        accept.first.click()
        time.sleep(0.5)


def open_and_run(page: Page, lab: LabServer, name: str, count: int) -> None:
    page.goto(f"{lab.url}lab/tree/{name}?token={lab.token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    for _ in range(10):  # a loaded machine can make JupyterLab ask for the kernel: take the preferred one
        time.sleep(1)
        dismiss_dialogs(page)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    # Done when every widget is on the page: measuring a half-run notebook measures nothing.
    deadline = time.monotonic() + 300
    while page.locator(".mp-Progress").count() < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {page.locator('.mp-Progress').count()} of {count} widgets shown after 300 s")
        dismiss_dialogs(page)
        time.sleep(1)
    time.sleep(3)
    dismiss_dialogs(page)


def menu_times(page: Page, seconds: float) -> dict[str, list[float]]:
    """Open and close the File menu about once a second for ``seconds``, each opening timed from outside, in turn
    two ways: ``click``, Playwright's ``click()`` on the label (its actionability checks, run in the page, come
    first: visible, stable over two animation frames, hit by the pointer), and ``press``, a mouse press at the
    label's place (one input event sent to the browser, as a person's click arrives). Both then wait for the menu
    to be visible. Milliseconds per opening, by way."""
    times: dict[str, list[float]] = {"click": [], "press": []}
    file_menu = page.locator(".lm-MenuBar-itemLabel", has_text="File").first
    box = file_menu.bounding_box()
    assert box is not None, "the File menu is not on screen"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        way = "press" if len(times["click"]) > len(times["press"]) else "click"
        start = time.perf_counter()
        if way == "click":
            file_menu.click()
        else:
            page.mouse.click(x, y)
        page.locator(".lm-Menu").first.wait_for(state="visible")
        times[way].append((time.perf_counter() - start) * 1000)
        page.keyboard.press("Escape")
        page.locator(".lm-Menu").first.wait_for(state="detached")
        time.sleep(max(0.0, 1.0 - (time.perf_counter() - start)))
    return times


class Reporters:
    """Every job's worker reporting through the callback API at ``hz``: wrk, paced per connection.

    wrk (C) rather than a Python client: an asyncio httpx client in this process took half a core to send 100
    reports a second, starving the server and the page of the 2-core machine it is meant to measure.
    """

    def __init__(self, jobs: list[dict[str, Any]], hz: float, seconds: float) -> None:
        rate = len(jobs) * hz
        # About 20 requests a second per connection, paced by a 50 ms delay: a connection's rate is 1 / (delay +
        # latency), so a long delay keeps the server's few ms of latency a small share (at 100 a second and 10 ms,
        # a 5 ms latency cost a third of the rate asked for).
        self.connections = max(1, round(rate / 20))
        self.delay_ms = max(1, round(1000 * self.connections / rate))
        self.jobs, self.seconds = jobs, seconds

    def __enter__(self) -> Reporters:
        pairs = [(job["token"], job["job_id"]) for job in self.jobs]
        self.wrk = WrkCallbacks(self.jobs[0]["url"], pairs, self.seconds + 5, self.connections, self.delay_ms)
        return self

    def __exit__(self, *exc: object) -> None:
        stats = self.wrk.finish()
        self.accepted_per_s = (stats["requests"] - stats["non_2xx"]) / (stats["duration_us"] / 1e6)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(page: Page, lab: LabServer, count: int, seconds: float, hz: float, root: Path) -> dict[str, Any]:
    jobs = create_jobs(lab, count)
    name = f"widgets-{count}.ipynb"
    write_notebook(root / name, [job["id"] for job in jobs])
    open_and_run(page, lab, name, count)
    shown = page.locator(".mp-Progress").count()
    page.evaluate(OBSERVERS)
    idle_menu = menu_times(page, min(seconds, 15))
    idle_long, idle_clicks, idle_opens = page.evaluate(TAKE)
    with Reporters(jobs, hz, seconds) as reporters:
        time.sleep(2)  # the reports reach full rate
        page.evaluate(TAKE)
        load_menu = menu_times(page, seconds)
        load_long, load_clicks, load_opens = page.evaluate(TAKE)
    return {
        "widgets": count,
        "shown": shown,
        "seconds": seconds,
        "reports_per_s": round(reporters.accepted_per_s, 1),
        "idle": summary(idle_menu, idle_long, idle_clicks, idle_opens),
        "load": summary(load_menu, load_long, load_clicks, load_opens),
    }


def summary(
    menu: dict[str, list[float]], long_tasks: list[float], clicks: list[float], opens: list[float]
) -> dict[str, Any]:
    # An event under Event Timing's 16 ms floor leaves no entry: count it as 16 ms, an upper bound.
    openings = len(menu["click"]) + len(menu["press"])
    paints = clicks + [16.0] * max(0, openings - len(clicks))
    presses = opens + [16.0] * max(0, openings - len(opens))
    return {
        "menu_p50_ms": round(statistics.median(menu["click"]), 1) if menu["click"] else None,
        "menu_p95_ms": round(percentile(menu["click"], 0.95), 1),
        "menu_press_p50_ms": round(statistics.median(menu["press"]), 1) if menu["press"] else None,
        "menu_press_p95_ms": round(percentile(menu["press"], 0.95), 1),
        "menu_samples": openings,
        "menu_in_page_p50_ms": round(statistics.median(presses), 1) if presses else None,
        "menu_in_page_p95_ms": round(percentile(presses, 0.95), 1),
        "click_to_paint_p50_ms": round(statistics.median(paints), 1) if paints else None,
        "click_to_paint_p95_ms": round(percentile(paints, 0.95), 1),
        "long_tasks": len(long_tasks),
        "longest_task_ms": round(max(long_tasks), 1) if long_tasks else 0,
        "long_tasks_over_50ms": len(long_tasks),  # a long task is one over 50 ms, by definition
    }


def table(results: list[dict[str, Any]], hz: float) -> str:
    lines = [
        f"| widgets (shown) | reports/s accepted (target {hz:g} Hz each) | phase "
        "| File menu, press to painted, in the page p50 / p95 (ms) | File menu, mouse press via Playwright p50 / p95 "
        "(ms) | File menu, Playwright click() p50 / p95 (ms) | click to next paint p50 / p95 (ms) | long tasks "
        "| longest (ms) |",
        "|---:|---:|---|---|---|---|---|---:|---:|",
    ]
    for r in results:
        for phase in ("idle", "load"):
            p = r[phase]
            reports = f"{r['reports_per_s']:,}" if phase == "load" else "—"
            lines.append(
                f"| {r['widgets']} ({r['shown']}) | {reports} | {phase}, {r['seconds'] if phase == 'load' else 15} s "
                f"| {p['menu_in_page_p50_ms']} / {p['menu_in_page_p95_ms']} "
                f"| {p['menu_press_p50_ms']} / {p['menu_press_p95_ms']} "
                f"| {p['menu_p50_ms']} / {p['menu_p95_ms']} "
                f"| {p['click_to_paint_p50_ms']} / {p['click_to_paint_p95_ms']} "
                f"| {p['long_tasks']} | {p['longest_task_ms']} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="50,100,200", help="widget counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=60, help="seconds under load per count")
    parser.add_argument("--hz", type=float, default=10, help="reports per second of each job")
    parser.add_argument("--quick", action="store_true", help="50 widgets for 10 s: a check, not a measurement")
    args = parser.parse_args()
    counts = [50] if args.quick else [int(c) for c in args.counts.split(",")]
    seconds = 10 if args.quick else args.seconds
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = workspace(Path(tmp) / "lab")
        lab = LabServer(root).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for count in counts:
                    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
                    results.append(measure(page, lab, count, seconds, args.hz, root))
                    page.context.close()
                    print(json.dumps(results[-1]), flush=True)
                browser.close()
        finally:
            lab.stop()
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / f"browser_widgets-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(results, indent=2))
    print(table(results, args.hz))


if __name__ == "__main__":
    main()
