"""The result preview in a real JupyterLab and headless Chromium (WebGL by SwiftShader, software): a finished job's
mesh is drawn (pixels, not just a canvas), orbits on drag, resets to its first image, loads while a cell sleeps, in
the light and the dark theme; a batch previews any finished member picked in its list, labelled regions in colour.
With MESHPROGRESS_UPDATE_SCREENSHOT set, the README's pictures (docs/preview-light.png, docs/preview-dark.png) are
refreshed."""

from __future__ import annotations

import io
import os
import re
import struct
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from support.lab import CHROMIUM_ARGS, LabServer
from support.notebook_ui import (
    callback,
    job_notebook,
    kernel_busy,
    open_notebook,
    read_targets,
    run_all,
    set_theme,
    widget,
    write_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS = Path(__file__).resolve().parents[2] / "docs"
# Software WebGL: SwiftShader behind ANGLE, which newer Chromium offers only when asked.
GL_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


@pytest.fixture
def chromium_args() -> list[str]:
    return CHROMIUM_ARGS + GL_ARGS


def image(locator: Locator) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB")).astype(int)


def drawn_fraction(picture: np.ndarray) -> float:
    """The share of the picture's middle that differs from its corner (the theme's background): the mesh."""
    h, w, _ = picture.shape
    middle = picture[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    return float((np.abs(middle - picture[2, 2]).sum(axis=2) > 40).mean())


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference per channel, 0..255."""
    return float(np.abs(a - b).mean())


def run_until_shown(page: Page, card: Locator) -> None:
    """Run all cells until ``card`` shows: on a loaded machine a first Run All can reach a kernel still starting."""
    for _ in range(3):
        # A dialog of a slow start (a kernel to select, a kernel that took long) or a menu left open by a first try.
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        if accept.count():
            accept.first.click()
        page.keyboard.press("Escape")
        run_all(page)
        try:
            expect(card).to_be_visible(timeout=90_000)
            return
        except AssertionError:
            if kernel_busy(page):
                break
    expect(card).to_be_visible(timeout=60_000)


def ready_preview(card: Locator) -> Locator:
    preview = card.locator(".mp-Preview")
    expect(preview).to_have_attribute("data-state", "ready", timeout=120_000)
    return preview


def steady(stage: Locator) -> np.ndarray:
    """The stage's picture once two shots in a row agree (a resize or a late draw has settled)."""
    last = image(stage)
    for _ in range(20):
        time.sleep(0.3)
        now = image(stage)
        if difference(now, last) < 0.5:
            return now
        last = now
    return last


def orbit_and_reset(page: Page, preview: Locator) -> np.ndarray:
    stage = preview.locator(".mp-Preview-stage")
    first = steady(stage)
    assert drawn_fraction(first) > 0.05, "no mesh drawn in the middle of the canvas"
    box = stage.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 120, y + 40, steps=8)
    page.mouse.up()
    turned = steady(stage)
    assert difference(turned, first) > 2, "dragging did not turn the view"
    preview.locator(".mp-Preview-reset").click()
    back = steady(stage)
    assert difference(back, first) < 1, "Reset view did not return to the first view"
    assert difference(back, first) < difference(turned, first) / 4
    return first


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_a_finished_job_is_previewed_while_a_cell_sleeps_and_orbits_and_resets(
    page: Page, lab: LabServer, theme: str
) -> None:
    shade = theme.split()[-1].lower()
    name = f"terrain ({shade})"
    write_notebook(
        lab.root / f"preview-{shade}.ipynb",
        "import meshprogress_nb\njobs = meshprogress_nb.connect()\n"
        f"job = jobs.submit('images/terrain.png', name={name!r}, target_faces=20000, smooth_iterations=50)\njob",
        "import time\ntime.sleep(600)",
    )
    set_theme(lab, theme)
    try:
        open_notebook(page, lab, f"preview-{shade}.ipynb")
        light = "false" if shade == "dark" else "true"
        page.wait_for_selector(f"body[data-jp-theme-light='{light}']", state="attached", timeout=30_000)
        card = widget(page, name)
        run_until_shown(page, card)
        preview = ready_preview(card)
        assert kernel_busy(page), "the preview should load while the second cell sleeps"
        result_link = card.locator(".mp-Progress-result")
        expect(result_link).to_have_attribute("href", re.compile(r"^/meshprogress/api/v1/meshes/\d+/result$"))
        facts = preview.locator(".mp-Preview-facts")
        expect(facts).to_contain_text("PLY")
        expect(facts).to_contain_text("File size")
        first = orbit_and_reset(page, preview)
        print(f"\n{theme}: {drawn_fraction(first):.0%} of the middle drawn")
        target = DOCS if os.environ.get("MESHPROGRESS_UPDATE_SCREENSHOT") else lab.root
        card.screenshot(path=str(target / f"preview-{shade}.png"))
    finally:
        set_theme(lab, "JupyterLab Light")
        stop_kernels(lab)


def stop_kernels(lab: LabServer) -> None:
    """End the sleeping cell's kernel (and any other), so later tests get a kernel that runs their cells."""
    api = {"token": lab.token}
    for kernel in httpx.get(f"{lab.url}api/kernels", params=api, timeout=30).json():
        httpx.delete(f"{lab.url}api/kernels/{kernel['id']}", params=api, timeout=30)


def labelled_ply(path: Path) -> None:
    """Two regions side by side (labels 0 and 1), a binary PLY like the workers' previews."""
    vertices, faces, labels = [], [], []
    for region in (0, 1):
        base = len(vertices)
        x0 = region * 1.0
        vertices += [(x0, 0, 0), (x0 + 1, 0, 0), (x0 + 1, 1, 0.2), (x0, 1, 0.2)]
        labels += [region] * 4
        faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {len(vertices)}\nproperty float x\nproperty float y\nproperty float z\nproperty int label\n"
        f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    body = b"".join(struct.pack("<fffi", *v, label) for v, label in zip(vertices, labels, strict=True))
    body += b"".join(struct.pack("<Biii", 3, *f) for f in faces)
    path.write_bytes(header.encode() + body)


def test_a_batch_previews_the_member_picked_and_links_each_result(page: Page, lab: LabServer) -> None:
    write_notebook(
        lab.root / "batch-preview.ipynb",
        "import meshprogress_nb\njobs = meshprogress_nb.connect()\n"
        "batch = jobs.submit_batch(['images/crater.png', 'images/ripples.png'], name='preview batch',"
        " target_faces=8000, smooth_iterations=50)\nbatch",
    )
    open_notebook(page, lab, "batch-preview.ipynb")
    card = widget(page, "preview batch")
    run_until_shown(page, card)
    expect(card.locator(".mp-Progress-member[data-status='completed']")).to_have_count(2, timeout=180_000)
    rows = card.locator(".mp-Progress-member")
    ids = [int(rows.nth(i).get_attribute("data-mesh-id") or 0) for i in range(2)]
    for i, mesh_id in enumerate(ids):
        link = rows.nth(i).locator(".mp-Progress-memberResult")
        expect(link).to_be_visible()
        assert link.get_attribute("href") == f"/meshprogress/api/v1/meshes/{mesh_id}/result"
    expect(card.locator(".mp-Preview")).to_be_hidden()

    rows.nth(0).click()
    preview = ready_preview(card)
    expect(preview).to_have_attribute("data-mesh-id", str(ids[0]))
    expect(rows.nth(0)).to_have_attribute("aria-selected", "true")
    orbit_and_reset(page, preview)

    # The second member gets a worker's labelled preview beside its result: regions in their own colours.
    results = lab.root / ".data" / "meshprogress" / "results"
    (result,) = [p for p in results.glob(f"mesh-{ids[1]}-attempt-*.ply") if not p.name.endswith(".preview.ply")]
    labelled_ply(result.with_name(result.stem + ".preview.ply"))
    rows.nth(1).click()
    expect(preview).to_have_attribute("data-mesh-id", str(ids[1]))
    ready_preview(card)
    expect(preview.locator(".mp-Preview-facts")).to_contain_text("4 faces (decimated)")
    picture = steady(preview.locator(".mp-Preview-stage"))
    r, b = picture[..., 0], picture[..., 2]
    assert ((b - r) > 30).mean() > 0.02 and ((r - b) > 40).mean() > 0.02, "expected a blue and an orange region"


def box_ply(path: Path) -> None:
    """A closed box (12 triangles), ASCII PLY: a result small enough to be previewed as it is."""
    corners = [(x, y, z) for x in (0, 2) for y in (0, 1) for z in (0, 1)]
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = [t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))]
    lines = [
        "ply",
        "format ascii 1.0",
        f"element vertex {len(corners)}",
        "property float x",
        "property float y",
        "property float z",
        f"element face {len(faces)}",
        "property list uchar int vertex_indices",
        "end_header",
        *(" ".join(map(str, c)) for c in corners),
        *(f"3 {a} {b} {c}" for a, b, c in faces),
    ]
    path.write_text("\n".join(lines) + "\n")


def test_thirty_previews_on_one_page_each_draw_their_mesh(page: Page, lab: LabServer) -> None:
    """Chromium keeps about 16 WebGL contexts per page and blanks the oldest beyond: previews out of view give
    theirs back (a still picture stands in), so every one of 30 draws its mesh, down the page and back up."""
    count = 30
    job_notebook(
        lab.root,
        "thirty.ipynb",
        "import meshprogress_nb\njobs = meshprogress_nb.connect()\n"
        f"many = [jobs.submit(f'box-{{i}}.png', name=f'box {{i:02d}}', dispatch=False) for i in range({count})]\n",
        records="[m.record for m in many]",
        targets="thirty.json",
        show="display(*many)",
    )
    open_notebook(page, lab, "thirty.ipynb")
    run_until_shown(page, widget(page, "box 00"))
    targets = read_targets(lab.root, "thirty.json")
    results = lab.root / ".data" / "meshprogress" / "results"
    results.mkdir(parents=True, exist_ok=True)
    for target in targets:
        box_ply(results / f"mesh-{target['id']}-attempt-1.ply")
        callback(target, status="completed", result_url=f"/meshprogress/api/v1/meshes/{target['id']}/result")

    cards = [widget(page, f"box {i:02d}") for i in range(count)]
    for card in cards + cards[:4]:  # down the page, then back to the first ones
        card.scroll_into_view_if_needed()
        preview = ready_preview(card)
        stage = preview.locator(".mp-Preview-stage")
        stage.scroll_into_view_if_needed()
        assert drawn_fraction(steady(stage)) > 0.05, f"{card.locator('.mp-Progress-title').inner_text()}: blank"
        live = page.evaluate("() => document.querySelectorAll('canvas.mp-Preview-canvas').length")
        assert live <= 8, f"{live} previews hold a WebGL context"
    stop_kernels(lab)
