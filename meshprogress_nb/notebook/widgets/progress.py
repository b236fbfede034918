"""Notebook widgets that show a mesh's or a batch's progress live.

The widgets declare state. In ``frontend`` mode (JupyterLab 4 / Notebook 7 with the ``meshprogress-nb``
extension, built from ``labextension/``) the browser subscribes to the hub's cable itself, so the bar moves
while the kernel is busy, and mirrors each accepted payload back into these traits: after a cell finishes,
``w.progress`` and ``w.status`` hold the latest values the browser showed. In ``kernel`` mode (frontends that
render only standard ipywidgets) a kernel thread polls the hub and fills the same traits, and standard widgets
draw them (see :mod:`.fallback`). Either way ``w.cancel()``, ``w.retry()`` and ``w.refresh()`` talk to the
hub's REST API from the kernel.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import ipywidgets as widgets
from traitlets import Bool, Dict, Enum, Float, Int, List, Unicode, observe, validate

from .kernel_mode import KernelView, poller, resolve_mode
from .snapshot import snapshot_html
from .text import counts_text, format_percent, remaining_text, status_label

if TYPE_CHECKING:
    from ..client import Jobs

#: The JavaScript module holding the models and views (labextension/package.json ``name``/``version``).
MODULE_NAME = "meshprogress-nb"
MODULE_VERSION = "0.1.0"
#: The range of front-end versions these widgets work with.
MODULE_VERSION_RANGE = f"^{MODULE_VERSION}"
#: The output's own record of the job (kind, id, state), which the extension renders live even when the
#: widget's model is gone (a notebook reopened after its kernel restarted); labextension/src/outputs.ts.
JOB_MIME = "application/vnd.meshprogress.job+json"

STATUSES = frozenset({"pending", "processing", "completed", "failed", "cancelled"})
ACTIVE_STATUSES = frozenset({"pending", "processing"})
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN
        return None
    return float(value)


def _progress(value: Any) -> float:
    number = _number(value)
    return 0.0 if number is None else min(100.0, max(0.0, number))


def _optional_int(value: Any) -> int | None:
    number = _number(value)
    return None if number is None or number < 0 or number == float("inf") else round(number)


def _count(value: Any) -> int:
    return _optional_int(value) or 0


def _optional_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _HubWidget(widgets.DOMWidget):
    """What mesh and batch widgets share: the payload fields common to both, connection state, actions."""

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
    connected = Bool(False, help="Whether the widget receives the hub's live updates.").tag(sync=True)
    error = Unicode("", help="Last error met (rejected subscription, failed action, hub unreachable).").tag(sync=True)
    mode = Enum(
        ("frontend", "kernel"),
        "frontend",
        help="Who follows the hub: the browser extension (frontend) or a kernel thread driving standard "
        "ipywidgets (kernel). Chosen at construction.",
    )

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
    #: Payload fields and how each is read from untrusted JSON (the hub's payload shape, docs/api.md).
    _payload_fields: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "name": _text,
        "status": _text,
        "progress": _progress,
        "estimated_remaining": _optional_int,
        "updated_at": _optional_text,
    }
    #: The trait holding the watched id, and the REST collection of the hub's API.
    _id_trait: ClassVar[str] = ""
    _collection: ClassVar[str] = ""

    def __init__(self, *, mode: str = "auto", jobs: Jobs | None = None, **kwargs: Any) -> None:
        self._ready = False
        self.closed = False
        self._switching: tuple[int | None] | None = None
        self._jobs = jobs
        self._apply_lock = threading.RLock()
        self._kernel_view: KernelView | None = None
        self._display_id: str | None = None
        super().__init__(mode=resolve_mode(mode), **kwargs)
        self._ready = True
        if self.mode == "kernel":
            self._kernel_view = KernelView(self)
            poller().add(self)

    def open(self) -> None:
        """Open the comm to the front end, except in kernel mode: there only standard widgets are shown."""
        if self.mode != "kernel":
            super().open()

    def close(self) -> None:
        """Stop following the hub and remove the widget's views."""
        self.closed = True  # the poller drops closed widgets; no lock here (ipywidgets calls this from __del__)
        view, self._kernel_view = self._kernel_view, None
        if view is not None:
            view.close()
        super().close()

    @property
    def subject_id(self) -> int | None:
        """The watched mesh or batch id."""
        return getattr(self, self._id_trait)

    @property
    def done(self) -> bool:
        """True once the status is terminal (completed, failed or cancelled)."""
        return self.status in TERMINAL_STATUSES

    @property
    def can_cancel(self) -> bool:
        """Cancel applies while pending or processing (the widget's and the sidebar's rule)."""
        return self.status in ACTIVE_STATUSES

    @property
    def can_retry(self) -> bool:
        """Retry applies once failed or cancelled."""
        return self.status in ("failed", "cancelled")

    # -- talking to the hub -------------------------------------------------------------------------------

    def hub(self) -> Jobs:
        """The hub client: the one given as ``jobs=``, else ``meshprogress_nb.connect()`` (found from the env)."""
        if self._jobs is None:
            from ..client import connect

            self._jobs = connect()
        return self._jobs

    def cancel(self) -> dict[str, Any]:
        """Cancel through the hub's REST API and show the answer at once; returns the updated record.

        Raises :class:`meshprogress_nb.notebook.client.HubError` (409 once the job ended, 404 for an unknown id).
        """
        return self._act("cancel")

    def retry(self) -> dict[str, Any]:
        """Retry (a new attempt of a failed or cancelled job) through the hub's REST API; returns the record.

        Raises :class:`meshprogress_nb.notebook.client.HubError` (409 unless failed or cancelled).
        """
        return self._act("retry")

    def refresh(self) -> dict[str, Any]:
        """Read the current state from the hub's REST API into the widget now; returns the record."""
        subject = self._require_id()
        record = self.hub().request("GET", f"{self._collection}/{subject}")
        self.apply_payload(record)
        return record

    def _act(self, action: str) -> dict[str, Any]:
        subject = self._require_id()
        record = self.hub().request("POST", f"{self._collection}/{subject}/{action}")
        self.apply_payload(record)
        return record

    def _require_id(self) -> int:
        subject = self.subject_id
        if subject is None:
            raise ValueError(f"{type(self).__name__} has no {self._id_trait} to act on")
        return subject

    def apply_payload(self, payload: Any) -> bool:
        """Fold in a cable payload or REST record of the watched id if it is newer; True when it was.

        The same rule as the front end's: the id must match and ``version`` must grow.
        """
        if not isinstance(payload, dict):
            return False
        subject = _optional_id(payload.get(self._id_trait, payload.get("id")))
        version = _optional_id(payload.get("version"))
        if subject is None or version is None or payload.get("status") not in STATUSES:
            return False
        with self._apply_lock:
            # While the id changes, only the new id's payloads count (the old one may still be in flight).
            expected = self.subject_id if self._switching is None else self._switching[0]
            if subject != expected or version <= self.version:
                return False
            # Observers (the static rendering, kernel mode's view) see the whole payload at once.
            with self.hold_sync(), self.hold_trait_notifications():
                for name, read in self._payload_fields.items():
                    setattr(self, name, read(payload.get(name)))
                self.version = version
        return True

    # -- state from the front end ---------------------------------------------------------------------------

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply the front end's update, without payload fields older than what the kernel already applied.

        The kernel may have applied a newer record itself (``cancel()`` while the browser's earlier update was
        still queued); that queued update must not roll the state back.
        """
        version = sync_data.get("version")
        if isinstance(version, int) and version < self.version:
            sync_data = {k: v for k, v in sync_data.items() if k != "version" and k not in self._payload_fields}
        super().set_state(sync_data)

    def _switch_stream(self, old: int | None, new: int | None) -> None:
        """Clear the old id's state when the watched id changes.

        Called from the id's validator, so the reset reaches the front end before the new id does: a reset
        sent after it could land after the first payload of the new id and wipe it. Not during ``__init__``,
        where the traits still hold their defaults or the caller's values.
        """
        if not getattr(self, "_ready", False) or old == new:
            return
        with self._apply_lock, self.hold_sync(), self.hold_trait_notifications():
            self._switching = (new,)
            for name in self._stream_traits:
                setattr(self, name, self.trait_defaults(name))

    def _switched(self) -> None:
        """The id changed (after ``_switch_stream``): follow the new one."""
        self._switching = None
        if self._ready and self.mode == "kernel":
            poller().add(self)

    # -- what is shown ----------------------------------------------------------------------------------------

    def _summary_parts(self) -> list[str]:
        parts = [format_percent(self.progress), status_label(self.status)]
        eta = remaining_text(self.estimated_remaining) if self.status == "processing" else ""
        if eta:
            parts.append(eta)
        return parts

    def summary(self) -> str:
        raise NotImplementedError

    def title(self) -> str:
        """The name the hub reports, else ``Mesh 7`` / ``Batch 3``."""
        raise NotImplementedError

    def detail(self) -> str:
        """The status line under the bar: ``Processing: meshing``."""
        return status_label(self.status)

    def _ipython_display_(self) -> None:
        """Display the widget under a display id, so its static rendering can follow the state (see below)."""
        from IPython.display import display

        if self._display_id is None:
            self._display_id = uuid.uuid4().hex
        display(self._repr_mimebundle_(), raw=True, display_id=self._display_id)

    @observe("status")
    def _refresh_static_rendering(self, change: Any) -> None:
        """Rewrite the displayed outputs' static rendering when a job ends (or starts again after it ended).

        What a saved notebook keeps is the output's data: this puts the final state there. Only on these
        changes, as the frontend draws the output anew; the live widget itself is unaffected.
        """
        if self._display_id is None or not ({change.old, change.new} & TERMINAL_STATUSES):
            return
        from IPython.display import update_display

        update_display(self._repr_mimebundle_(), raw=True, display_id=self._display_id)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The live widget, plus a small static rendering of the current state (text and escaped HTML).

        Frontends that cannot show the widget (nbviewer, GitHub, a notebook reopened without its kernel and
        widget state, nbconvert) show the static one instead, so a saved notebook still says where the job was.
        """
        view = self if self._kernel_view is None else self._kernel_view.box
        data = dict(widgets.DOMWidget._repr_mimebundle_(view, **kwargs) or {})
        data["text/plain"] = self.summary()
        data["text/html"] = snapshot_html(self)
        data[JOB_MIME] = self.job_record()
        return data

    def job_record(self) -> dict[str, Any]:
        """What the output keeps of the job: its kind, id and the state last known here."""
        state = {name: getattr(self, name) for name in self._payload_fields}
        state.update(version=self.version, **{self._id_trait: self.subject_id})
        return {"kind": self._id_trait.removesuffix("_id"), "id": self.subject_id, "state": state}


class ProgressWidget(_HubWidget):
    """Live progress of one mesh: bar, status message, ETA, connection dot, Cancel and Retry.

    ``ProgressWidget(7)`` watches mesh 7; assigning ``mesh_id`` switches to another mesh. ``mode`` is
    ``"frontend"``, ``"kernel"`` or ``"auto"`` (see :func:`meshprogress_nb.notebook.widgets.kernel_mode.resolve_mode`);
    ``jobs`` is the hub client for actions and kernel mode (default: ``meshprogress_nb.connect()``).
    """

    _model_name = Unicode("ProgressModel").tag(sync=True)
    _view_name = Unicode("ProgressView").tag(sync=True)

    mesh_id = Int(None, allow_none=True, help="The mesh to watch.").tag(sync=True)
    message = Unicode("", help="The worker's last status message.").tag(sync=True)
    result_url = Unicode(None, allow_none=True, help="Where the result is, once completed.").tag(sync=True)
    batch_id = Int(None, allow_none=True, help="The batch the mesh belongs to, if any.").tag(sync=True)

    _stream_traits = (*_HubWidget._stream_traits, "message", "result_url", "batch_id")
    _payload_fields = {
        **_HubWidget._payload_fields,
        "message": _text,
        "result_url": _optional_text,
        "batch_id": _optional_id,
    }
    _id_trait = "mesh_id"
    _collection = "meshes"

    def __init__(
        self, mesh_id: int | None = None, *, mode: str = "auto", jobs: Jobs | None = None, **kwargs: Any
    ) -> None:
        super().__init__(mesh_id=mesh_id, mode=mode, jobs=jobs, **kwargs)

    @validate("mesh_id")
    def _validate_mesh_id(self, proposal: Any) -> int | None:
        self._switch_stream(self.mesh_id, proposal["value"])
        return proposal["value"]

    @observe("mesh_id")
    def _mesh_id_changed(self, _change: Any) -> None:
        self._switched()

    def title(self) -> str:
        return self.name or f"Mesh {self.mesh_id}"

    def detail(self) -> str:
        label = status_label(self.status)
        return f"{label}: {self.message}" if self.message else label

    def summary(self) -> str:
        """One line such as ``Mesh 7: 42.5%, Processing, meshing, Est. 12s remaining``."""
        parts = self._summary_parts()
        if self.message:
            parts.insert(2, self.message)
        return f"{self.title()}: {', '.join(parts)}"


class BatchProgressWidget(_HubWidget):
    """Live progress of a batch: overall bar, counts, ETA, Cancel/Retry, and a compact per-mesh list.

    ``BatchProgressWidget(3)`` watches batch 3. ``meshes`` lists up to 100 members as ``{"mesh_id", "name",
    "status", "progress", "message"}`` dicts, failed and processing ones first (for a batch of more than 100,
    only those); the counts cover every member.
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
    _payload_fields = {
        **_HubWidget._payload_fields,
        "total": _count,
        "completed": _count,
        "failed": _count,
        "cancelled": _count,
        "processing": _count,
        "pending": _count,
    }
    _id_trait = "batch_id"
    _collection = "batches"

    def __init__(
        self, batch_id: int | None = None, *, mode: str = "auto", jobs: Jobs | None = None, **kwargs: Any
    ) -> None:
        super().__init__(batch_id=batch_id, mode=mode, jobs=jobs, **kwargs)

    @validate("batch_id")
    def _validate_batch_id(self, proposal: Any) -> int | None:
        self._switch_stream(self.batch_id, proposal["value"])
        return proposal["value"]

    @observe("batch_id")
    def _batch_id_changed(self, _change: Any) -> None:
        self._switched()

    @property
    def can_retry(self) -> bool:
        """Retry applies once every member ended and some failed or were cancelled."""
        finished = self.completed + self.failed + self.cancelled
        return self.total > 0 and finished >= self.total and self.failed + self.cancelled > 0

    def title(self) -> str:
        return self.name or f"Batch {self.batch_id}"

    def counts_text(self) -> str:
        """``3 completed, 1 failed of 4``: what the widgets show under the bar."""
        return counts_text(
            {"total": self.total, "completed": self.completed, "failed": self.failed, "cancelled": self.cancelled}
        )

    def summary(self) -> str:
        """One line such as ``Batch 3: 51.2%, Processing, 4 completed, 1 failed of 10, Est. 30s remaining``."""
        if self.done:  # the outcome, not "75%, Failed"
            return f"{self.title()}: {self.counts_text()}"
        parts = self._summary_parts()
        parts.insert(2, self.counts_text())
        return f"{self.title()}: {', '.join(parts)}"
