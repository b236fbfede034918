"""A finished job's mesh from Python (``job.mesh()``, a meshio.Mesh through the hub's routes) and kernel mode's
still picture of it (numpy + Pillow, no browser)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import meshio
import numpy as np
from PIL import Image

from meshprogress_nb.notebook.client import HubError, Jobs
from meshprogress_nb.notebook.widgets import ProgressWidget
from meshprogress_nb.notebook.widgets.render import render_png
from meshprogress_nb.worker.geometry import Geometry
from meshprogress_nb.worker.writers import write_mesh
from support.clients import worker_report
from support.server import HubServer


def hills(n: int = 30) -> Geometry:
    """A heightfield of 2 (n-1)^2 triangles, z-up like the workers' meshes from images."""
    x, y = np.meshgrid(np.linspace(0, 10, n), np.linspace(0, 10, n))
    points = np.column_stack([x.ravel(), y.ravel(), np.sin(x).ravel() * np.cos(y).ravel()])
    i = np.arange(n * n).reshape(n, n)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, 1:].ravel(), i[1:, :-1].ravel()
    faces = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    return Geometry(points=points, cells=faces)


def finished_job(hub: HubServer, jobs: Jobs, fmt: str = "stl") -> int:
    """A job whose result (``fmt``) and preview (PLY, a quarter of the faces) are where a dispatcher puts them."""
    job = jobs.submit("images/hills.png", name="hills", dispatch=False)
    results = hub.root / "data" / "meshprogress" / "results"
    write_mesh(hills(), results / f"mesh-{job.id}-attempt-1.{fmt}")
    write_mesh(hills(16), results / f"mesh-{job.id}-attempt-1.preview.ply")
    worker_report(job.record, status="completed")
    return job.id


def test_job_mesh_reads_the_result_or_its_preview_through_the_hub(hub: HubServer, jobs: Jobs) -> None:
    mesh_id = finished_job(hub, jobs)
    job = jobs.mesh(mesh_id)
    full = job.mesh()
    assert isinstance(full, meshio.Mesh) and len(full.cells_dict["triangle"]) == 2 * 29 * 29
    preview = job.mesh(preview=True)
    assert len(preview.cells_dict["triangle"]) == 2 * 15 * 15
    missing = jobs.submit("images/none.png", dispatch=False)
    try:
        missing.mesh()
        raise AssertionError("a job without a result has no mesh")
    except HubError as exc:
        assert exc.status == 409  # the job exists; its file does not (yet)


def opaque_middle(png: bytes) -> float:
    picture = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    h, w, _ = picture.shape
    return float((picture[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4, 3] > 0).mean())


def test_render_draws_the_mesh_and_colours_labelled_regions(tmp_path: Path) -> None:
    surface = hills()
    mesh = meshio.Mesh(surface.points, [("triangle", surface.cells)])
    png = render_png(mesh, 240, 180)
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).size == (240, 180)
    assert opaque_middle(png) > 0.5
    labelled = meshio.Mesh(
        surface.points, [("triangle", surface.cells)], point_data={"label": (surface.points[:, 0] > 5).astype(int)}
    )
    colors = np.asarray(Image.open(io.BytesIO(render_png(labelled, 240, 180))).convert("RGB")).astype(int)
    r, b = colors[..., 0], colors[..., 2]
    assert ((b - r) > 30).mean() > 0.05 and ((r - b) > 40).mean() > 0.05, "a blue and an orange region"


def test_kernel_mode_shows_a_picture_of_the_finished_mesh(hub: HubServer, jobs: Jobs) -> None:
    mesh_id = finished_job(hub, jobs, fmt="ply")
    w = ProgressWidget(mesh_id, mode="kernel", jobs=jobs)
    try:
        view = w._kernel_view
        assert view.picture in view.box.children
        deadline = time.monotonic() + 60
        while view.picture.layout.display == "none" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert view.picture.layout.display == "" and bytes(view.picture.value).startswith(b"\x89PNG")
        assert opaque_middle(bytes(view.picture.value)) > 0.5
    finally:
        w.close()
