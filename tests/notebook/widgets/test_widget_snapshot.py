"""The static rendering a saved notebook keeps: small, escaped, and rewritten when a job ends."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest

from meshprogress_nb.notebook.widgets import BatchProgressWidget, ProgressWidget
from meshprogress_nb.notebook.widgets.progress import JOB_MIME
from meshprogress_nb.notebook.widgets.snapshot import MAX_TEXT

XSS = '<img src=x onerror="window.__xss=1">'


def mesh(**fields: object) -> dict:
    return {"mesh_id": 7, "status": "processing", "progress": 42.5, "version": 2, "name": "brain.png", **fields}


def test_the_bundle_has_the_live_widget_and_a_static_rendering() -> None:
    w = ProgressWidget(7, mode="frontend")
    w.apply_payload(mesh(message="meshing", estimated_remaining=65))
    bundle = w._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    assert bundle["text/plain"] == "brain.png: 42.5%, Processing, meshing, Est. 1m 5s remaining"
    html = bundle["text/html"]
    assert '<progress max="100" value="42.5"' in html
    assert "42.5% · Processing: meshing · Est. 1m 5s remaining" in html
    assert 'data-status="processing"' in html
    assert "<script" not in html and "<style" not in html


def test_the_static_rendering_escapes_worker_text() -> None:
    w = ProgressWidget(7, mode="frontend")
    w.apply_payload(mesh(status="failed", name=XSS, message=XSS))
    html = w._repr_mimebundle_()["text/html"]
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in html
    assert "Failed: &lt;img" in html


def test_the_static_rendering_stays_small() -> None:
    w = ProgressWidget(7, mode="frontend")
    w.apply_payload(mesh(message="x" * 10_000, name="n" * 5_000))
    bundle = w._repr_mimebundle_()
    assert len(bundle["text/html"]) < 4 * MAX_TEXT + 600
    w.apply_payload(mesh(version=3, message="meshing"))
    assert len(json.dumps(w.get_state())) < 2_000, "the widget's own state is small too"


def test_a_batch_shows_its_counts() -> None:
    w = BatchProgressWidget(3, mode="frontend")
    w.apply_payload(
        {"batch_id": 3, "status": "failed", "version": 5, "total": 10, "completed": 9, "failed": 1, "progress": 95}
    )
    bundle = w._repr_mimebundle_()
    assert bundle["text/plain"] == "Batch 3: 9 completed, 1 failed of 10"
    assert "9 completed, 1 failed of 10" in bundle["text/html"] and "Failed" not in bundle["text/html"]
    assert 'value="95"' in bundle["text/html"]


def test_a_completed_job_shows_full() -> None:
    w = ProgressWidget(7, mode="frontend")
    w.apply_payload(mesh(status="completed", progress=99.0))
    assert 'value="100"' in w._repr_mimebundle_()["text/html"]


@pytest.mark.parametrize("mode", ["frontend", "kernel"])
def test_the_displayed_output_follows_the_end_of_a_job(mode: str) -> None:
    import meshprogress_nb

    w = ProgressWidget(7, mode=mode, jobs=meshprogress_nb.connect("http://127.0.0.1:9/", "x"))
    try:
        with mock.patch("IPython.display.display") as display:
            w._ipython_display_()
        (bundle,), options = display.call_args
        assert options["raw"] is True and options["display_id"]
        display_id = options["display_id"]
        assert "application/vnd.jupyter.widget-view+json" in bundle and "text/html" in bundle

        with mock.patch("IPython.display.update_display") as update:
            w.apply_payload(mesh(version=3))
            w.apply_payload(mesh(version=4, progress=60))
            assert update.call_count == 0, "no rewrite while the job runs"
            w.apply_payload(mesh(version=5, status="failed", message="bad image"))
            assert update.call_count == 1
            (bundle,), options = update.call_args
            assert options == {"raw": True, "display_id": display_id}
            assert bundle["text/plain"] == "brain.png: 42.5%, Failed, bad image"
            assert "Failed: bad image" in bundle["text/html"]
            w.apply_payload(mesh(version=6, status="pending", progress=0, message=""))
            assert update.call_count == 2, "a retry starts again"
            assert "Queued" in update.call_args[0][0]["text/plain"]
    finally:
        w.close()


def test_a_widget_never_displayed_is_not_rewritten() -> None:
    w = ProgressWidget(7, mode="frontend")
    with mock.patch("IPython.display.update_display") as update:
        w.apply_payload(mesh(status="completed"))
    assert update.call_count == 0


CASES = json.loads((Path(__file__).with_name("format_cases.json")).read_text())


@pytest.mark.parametrize(("kind", "state", "text", "html"), CASES["snapshot"])
def test_the_static_rendering_matches_the_front_ends(kind: str, state: dict, text: str, html: str) -> None:
    """The browser rewrites these at save time (labextension/src/snapshot.ts); both write the same."""
    w = (ProgressWidget if kind == "mesh" else BatchProgressWidget)(state[f"{kind}_id"], mode="frontend")
    assert w.apply_payload(state)
    bundle = w._repr_mimebundle_()
    assert (bundle["text/plain"], bundle["text/html"]) == (text, html)
    assert bundle[JOB_MIME] == {"kind": kind, "id": state[f"{kind}_id"], "state": state}
