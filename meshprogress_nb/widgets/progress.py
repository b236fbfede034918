"""Notebook widgets that show a mesh's or a batch's progress live.

The widgets declare state only. Their front end (the ``meshprogress-nb`` JupyterLab extension, built from
``labextension/``) subscribes to the hub's cable itself, so the bar moves while the kernel is busy, and mirrors
each accepted payload back into these traits: after a cell finishes, ``w.progress`` and ``w.status`` hold the
latest values the browser showed. Without a browser attached the traits keep their defaults.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Dict, Float, Int, List, Unicode, validate

from .format import format_percent, remaining_text, status_label

#: The JavaScript module holding the models and views (labextension/package.json ``name``/``version``).
MODULE_NAME = "meshprogress-nb"
MODULE_VERSION = "0.1.0"
#: The range of front-end versions these widgets work with.
MODULE_VERSION_RANGE = f"^{MODULE_VERSION}"

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


class _HubWidget(widgets.DOMWidget):
    """What mesh and batch widgets share: the payload fields common to both, and connection state."""

    _model_module = Unicode(MODULE_NAME).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION_RANGE).tag(sync=True)
    _view_module = Unicode(MODULE_NAME).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION_RANGE).tag(sync=True)

    name = Unicode("", help="Name of the mesh or batch, as the hub reports it.").tag(sync=True)
    status = Unicode(
        "", help="pending, processing, completed, failed or cancelled; empty until the first payload."
    ).tag(sync=True)
    progress = Float(0.0, help="Percent done, 0 to 100.").tag(sync=True)
    estimated_remaining = Int(
        None, allow_none=True, help="Estimated whole seconds remaining while processing, or None."
    ).tag(sync=True)
    updated_at = Unicode(None, allow_none=True, help="ISO 8601 time of the last change.").tag(sync=True)
    version = Int(0, help="Version of the last applied payload; older payloads are dropped.").tag(sync=True)
    connected = Bool(False, help="Whether the front end is subscribed to the hub's live updates.").tag(sync=True)
    error = Unicode("", help="Last error the front end met (rejected subscription, failed action).").tag(sync=True)

    #: Traits that describe one subscription's stream; cleared when the watched id changes.
    _stream_traits: tuple[str, ...] = (
        "name",
        "status",
        "progress",
        "estimated_remaining",
        "updated_at",
        "version",
        "connected",
        "error",
    )

    @property
    def done(self) -> bool:
        """True once the status is terminal (completed, failed or cancelled)."""
        return self.status in TERMINAL_STATUSES

    def _switch_stream(self, old: int | None, new: int | None) -> None:
        """Clear the old id's state when the watched id changes.

        Called from the id's validator, so the reset reaches the front end before the new id does: a reset
        sent after it could land after the first payload of the new id and wipe it. Not during ``__init__``
        (no comm yet), where the traits still hold their defaults or the caller's values.
        """
        if self.comm is None or old == new:
            return
        with self.hold_sync():
            for name in self._stream_traits:
                setattr(self, name, self.trait_defaults(name))

    def _summary_parts(self) -> list[str]:
        parts = [format_percent(self.progress), status_label(self.status)]
        eta = remaining_text(self.estimated_remaining) if self.status == "processing" else ""
        if eta:
            parts.append(eta)
        return parts


class ProgressWidget(_HubWidget):
    """Live progress of one mesh: bar, status message, ETA, connection dot, Cancel and Retry.

    ``ProgressWidget(7)`` watches mesh 7; assigning ``mesh_id`` switches to another mesh.
    """

    _model_name = Unicode("ProgressModel").tag(sync=True)
    _view_name = Unicode("ProgressView").tag(sync=True)

    mesh_id = Int(None, allow_none=True, help="The mesh to watch.").tag(sync=True)
    message = Unicode("", help="The worker's last status message.").tag(sync=True)
    result_url = Unicode(None, allow_none=True, help="Where the result is, once completed.").tag(sync=True)
    batch_id = Int(None, allow_none=True, help="The batch the mesh belongs to, if any.").tag(sync=True)

    _stream_traits = (*_HubWidget._stream_traits, "message", "result_url", "batch_id")

    def __init__(self, mesh_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(mesh_id=mesh_id, **kwargs)

    @validate("mesh_id")
    def _validate_mesh_id(self, proposal: Any) -> int | None:
        self._switch_stream(self.mesh_id, proposal["value"])
        return proposal["value"]

    def summary(self) -> str:
        """One line such as ``Mesh 7: 42.5%, Processing, meshing, Est. 12s remaining``."""
        title = self.name or f"Mesh {self.mesh_id}"
        parts = self._summary_parts()
        if self.message:
            parts.insert(2, self.message)
        return f"{title}: {', '.join(parts)}"


class BatchProgressWidget(_HubWidget):
    """Live progress of a batch: overall bar, counts, ETA, Cancel/Retry, and a compact per-mesh list.

    ``BatchProgressWidget(3)`` watches batch 3. ``meshes`` lists up to the first 100 members as
    ``{"mesh_id", "name", "status", "progress", "message"}`` dicts; the counts cover every member.
    """

    _model_name = Unicode("BatchProgressModel").tag(sync=True)
    _view_name = Unicode("BatchProgressView").tag(sync=True)

    batch_id = Int(None, allow_none=True, help="The batch to watch.").tag(sync=True)
    total = Int(0, help="Number of meshes in the batch.").tag(sync=True)
    completed = Int(0, help="Members completed.").tag(sync=True)
    failed = Int(0, help="Members failed.").tag(sync=True)
    cancelled = Int(0, help="Members cancelled.").tag(sync=True)
    processing = Int(0, help="Members processing.").tag(sync=True)
    pending = Int(0, help="Members pending.").tag(sync=True)
    meshes = List(Dict(), help="Compact per-mesh state of the listed members.").tag(sync=True)

    _stream_traits = (
        *_HubWidget._stream_traits,
        "total",
        "completed",
        "failed",
        "cancelled",
        "processing",
        "pending",
        "meshes",
    )

    def __init__(self, batch_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(batch_id=batch_id, **kwargs)

    @validate("batch_id")
    def _validate_batch_id(self, proposal: Any) -> int | None:
        self._switch_stream(self.batch_id, proposal["value"])
        return proposal["value"]

    def summary(self) -> str:
        """One line such as ``Batch 3: 51.2%, Processing, 5/10 done, 1 failed, Est. 30s remaining``."""
        title = self.name or f"Batch {self.batch_id}"
        parts = self._summary_parts()
        counts = [f"{self.completed + self.failed + self.cancelled}/{self.total} done"]
        counts += [f"{n} {label}" for n, label in ((self.failed, "failed"), (self.cancelled, "cancelled")) if n]
        parts[2:2] = counts
        return f"{title}: {', '.join(parts)}"
