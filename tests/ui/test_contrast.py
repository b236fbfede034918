"""Every text of the widgets and the sidebar at 4.5:1 contrast or more (WCAG AA), in the light and the dark theme:
a mesh widget, a batch widget with its members and counts, and the sidebar's rows with their kind, id and time."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from support.lab import LabServer
from support.notebook_ui import (
    callback,
    job_notebook,
    open_panel,
    open_ready,
    read_targets,
    run_all,
    set_theme,
    widget,
)

#: Contrast of each visible element that holds text itself, against the colour painted behind it.
EVERY_TEXT = """(roots) => {
  const ctx = Object.assign(document.createElement('canvas'), { width: 1, height: 1 }).getContext('2d', {
    willReadFrequently: true
  });
  const rgba = css => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return { r, g, b, a: a / 255 };
  };
  const over = (fg, bg) => ({
    r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a), a: 1
  });
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const color = rgba(getComputedStyle(e).backgroundColor);
      if (color.a > 0.5) return color;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const luminance = ({ r, g, b }) => {
    const f = v => ((v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (fg, bg) => {
    const [hi, lo] = [luminance(over(fg, bg)), luminance(bg)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const found = [];
  for (const root of roots) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== '');
      if (!own || el.getClientRects().length === 0 || el.closest('[hidden]') || el.matches(':disabled')) continue;
      found.push({
        cls: el.className, text: el.textContent.trim().slice(0, 40),
        ratio: Math.round(ratio(rgba(getComputedStyle(el).color), background(el)) * 100) / 100
      });
    }
  }
  return found;
}"""


@pytest.mark.parametrize("theme", ["JupyterLab Dark", "JupyterLab Light"])
def test_every_text_reads_at_4_5_to_1(page: Page, lab: LabServer, theme: str) -> None:
    job_notebook(
        lab.root,
        "contrast.ipynb",
        "import meshprogress_nb\njobs = meshprogress_nb.connect()\n"
        "mesh = jobs.submit('x.png', name='contrast mesh', dispatch=False)\n"
        "batch = jobs.submit_batch(['a.png', 'b.png', 'c.png', 'd.png'], name='contrast batch', dispatch=False)\n",
        records="[mesh.record, *batch.record['meshes']]",
        targets="contrast-callbacks.json",
        show="display(mesh, batch)",
    )
    set_theme(lab, theme)
    try:
        open_ready(page, lab, "contrast.ipynb")
        light = "false" if "Dark" in theme else "true"
        page.wait_for_selector(f"body[data-jp-theme-light='{light}']", state="attached", timeout=30_000)
        panel = open_panel(page)
        run_all(page)
        mesh, batch = widget(page, "contrast mesh"), widget(page, "contrast batch")
        expect(batch).to_be_visible(timeout=60_000)
        mesh_target, *members = read_targets(lab.root, "contrast-callbacks.json")
        callback(mesh_target, progress=40, message="meshing label 3 of 7\nsmoothing with 8 passes")
        callback(members[0], status="completed")
        callback(members[1], status="failed", message="No such file or directory: b.png")
        callback(members[2], progress=50, message="meshing")
        expect(mesh.locator(".mp-Progress-percent")).to_have_text("40%", timeout=30_000)
        expect(batch.locator(".mp-Progress-counts")).to_have_text("1 completed, 1 failed of 4", timeout=30_000)
        expect(batch.locator(".mp-Progress-member[data-status='failed']")).to_be_visible(timeout=30_000)
        expect(panel.locator(".mp-JobRow-kind").first).to_have_text(re.compile(r"\d\d:\d\d"), timeout=30_000)
        # A message's whole text and a failed member's, opened.
        mesh.locator(".mp-Progress-detailsToggle").click()
        expect(mesh.locator(".mp-Progress-details")).to_be_visible()
        batch.locator(".mp-Progress-member[data-status='failed']").click()
        expect(batch.locator(".mp-Progress-memberFailure")).to_be_visible()
        # The newest batch row (this run's) shows its members too.
        panel.locator(".mp-JobRow[data-kind='batch'] .mp-JobRow-expand").first.click()
        expect(panel.locator(".mp-JobRow-memberId").first).to_be_visible()
        measured = page.evaluate(EVERY_TEXT, [mesh.element_handle(), batch.element_handle(), panel.element_handle()])
        print(f"\n{theme}: " + ", ".join(f"{m['cls'].split()[0]} {m['ratio']}" for m in measured))
        classes = {m["cls"].split()[0] for m in measured}
        assert {
            "mp-Progress-title",
            "mp-Progress-counts",
            "mp-Progress-memberStatus",
            "mp-JobRow-kind",
            "mp-Progress-detailsToggle",
            "mp-Progress-details",
            "mp-JobRow-memberId",
        } <= classes
        low = [m for m in measured if m["ratio"] < 4.5]
        assert not low, low
    finally:
        set_theme(lab, "JupyterLab Light")
