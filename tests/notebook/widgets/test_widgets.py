"""The Python side of the notebook widgets: synced traits, defaults, model names, resets and summaries."""

from __future__ import annotations

import json
from pathlib import Path

import ipywidgets
import pytest

from meshprogress_nb.notebook.widgets import (
    MODULE_NAME,
    MODULE_VERSION,
    BatchProgressWidget,
    ProgressWidget,
    format_eta,
)

LABEXTENSION = Path(__file__).resolve().parents[3] / "labextension"

COMMON_SYNCED = {
    "name",
    "status",
    "progress",
    "estimated_remaining",
    "updated_at",
    "version",
    "connected",
    "error",
}


def synced(widget: ipywidgets.Widget) -> set[str]:
    return set(widget.keys)


def test_progress_widget_declares_its_front_end() -> None:
    w = ProgressWidget(7)
    assert isinstance(w, ipywidgets.DOMWidget)
    assert (w._model_name, w._view_name) == ("ProgressModel", "ProgressView")
    assert w._model_module == w._view_module == "meshprogress-nb"
    assert w._model_module_version == w._view_module_version == "^0.1.0"


def test_batch_widget_declares_its_front_end() -> None:
    w = BatchProgressWidget(3)
    assert (w._model_name, w._view_name) == ("BatchProgressModel", "BatchProgressView")
    assert w._model_module == w._view_module == MODULE_NAME
    assert w._view_module_version == f"^{MODULE_VERSION}"


def test_progress_widget_syncs_the_mesh_payload() -> None:
    w = ProgressWidget(7)
    assert synced(w) >= COMMON_SYNCED | {"mesh_id", "message", "result_url", "batch_id"}
    assert w.mesh_id == 7
    assert (w.status, w.progress, w.message, w.version, w.connected) == ("", 0.0, "", 0, False)
    assert w.estimated_remaining is None
    assert w.result_url is None
    assert not w.done


def test_batch_widget_syncs_counts_and_members() -> None:
    w = BatchProgressWidget(batch_id=3)
    assert synced(w) >= COMMON_SYNCED | {
        "batch_id",
        "total",
        "completed",
        "failed",
        "cancelled",
        "processing",
        "pending",
        "meshes",
    }
    assert (w.total, w.completed, w.failed, w.cancelled, w.meshes) == (0, 0, 0, 0, [])


def test_state_serialises_as_the_front_end_expects() -> None:
    w = ProgressWidget(7)
    state = w.get_state()
    assert state["mesh_id"] == 7
    assert state["estimated_remaining"] is None
    assert state["_model_module"] == "meshprogress-nb"
    json.dumps(state)


def test_front_end_updates_are_readable_from_python() -> None:
    """What the view's model.set + save_changes does: an update message from the front end."""
    w = ProgressWidget(7)
    w.set_state(
        {
            "status": "processing",
            "progress": 42.5,
            "message": "meshing",
            "estimated_remaining": 65,
            "version": 9,
            "connected": True,
        }
    )
    assert (w.status, w.progress, w.version, w.connected) == ("processing", 42.5, 9, True)
    assert w.summary() == "Mesh 7: 42.5%, Processing, meshing, Est. 1m 5s remaining"
    w.set_state(
        {
            "status": "completed",
            "progress": 100.0,
            "estimated_remaining": None,
            "version": 10,
            "result_url": "/meshprogress/api/v1/meshes/7/result",
        }
    )
    assert w.done
    assert w.summary() == "Mesh 7: 100%, Completed, meshing"


def test_changing_the_id_clears_the_old_stream() -> None:
    w = ProgressWidget(7)
    w.set_state(
        {
            "status": "failed",
            "progress": 30.0,
            "message": "boom",
            "version": 4,
            "connected": True,
            "name": "brain.png",
            "error": "x",
        }
    )
    w.mesh_id = 8
    assert (w.mesh_id, w.status, w.progress, w.message, w.version, w.connected, w.name, w.error) == (
        8,
        "",
        0.0,
        "",
        0,
        False,
        "",
        "",
    )


def test_setting_the_same_id_keeps_the_state() -> None:
    w = BatchProgressWidget(3)
    w.set_state({"status": "processing", "total": 10, "completed": 4, "version": 2})
    w.batch_id = 3
    assert (w.status, w.total, w.version) == ("processing", 10, 2)


def test_constructor_values_survive_initialisation() -> None:
    w = ProgressWidget(7, name="brain.png")
    assert w.name == "brain.png"


def test_batch_summary_counts_members() -> None:
    w = BatchProgressWidget(3)
    w.set_state(
        {
            "status": "processing",
            "progress": 51.2,
            "total": 10,
            "completed": 4,
            "failed": 1,
            "estimated_remaining": 30,
            "name": "run-1",
        }
    )
    assert w.summary() == "run-1: 51.2%, Processing, 4 completed, 1 failed of 10, Est. 30s remaining"


def test_module_version_matches_the_labextension_package() -> None:
    package = LABEXTENSION / "package.json"
    if not package.exists():
        pytest.skip("labextension sources not present")
    data = json.loads(package.read_text())
    assert (data["name"], data["version"]) == (MODULE_NAME, MODULE_VERSION)


def test_format_eta_is_exported() -> None:
    assert format_eta(65) == "1m 5s"
