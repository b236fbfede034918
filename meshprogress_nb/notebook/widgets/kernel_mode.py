"""Kernel mode: the widgets without the browser extension, for frontends that render only standard ipywidgets.

In ``frontend`` mode the ``meshprogress-nb`` JupyterLab extension draws the widgets and follows the hub's cable
from the browser. Frontends that cannot load that extension (VS Code, Google Colab, classic Notebook 6, other
ipywidgets hosts) get ``kernel`` mode instead: one daemon thread per kernel (:class:`Poller`) reads each
widget's mesh or batch from the hub's REST API and sets the widget's traits, and :class:`KernelView` draws
them with standard ipywidgets (``FloatProgress``, ``HTML`` and ``Button`` in a ``VBox``), which every
ipywidgets frontend renders. Updates come from a thread, so they show while the kernel is idle and, between
bytecodes, mostly while it is busy too; Cancel/Retry clicks are handled when the kernel is idle.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import urllib.error
import weakref
from html import escape
from typing import Any

import ipywidgets as widgets

from .text import format_percent, remaining_text, rest_text, status_label

#: Overrides ``mode="auto"``: ``frontend`` or ``kernel``.
MODE_ENV = "MESHPROGRESS_WIDGET_MODE"
MODES = ("frontend", "kernel")
#: ipywidgets bar styles of the statuses.
BAR_STYLES = {"processing": "info", "completed": "success", "failed": "danger", "cancelled": "warning"}
#: Members a kernel-mode batch lists (failed first, then processing).
KERNEL_MEMBER_ROWS = 20
#: Members kept in a batch widget's ``meshes`` at most.
MEMBER_LIMIT = 100


def resolve_mode(mode: str = "auto") -> str:
    """The mode a widget runs in: ``frontend`` or ``kernel``.

    ``auto`` reads ``$MESHPROGRESS_WIDGET_MODE`` if set; otherwise it picks ``kernel`` in frontends known to
    lack the extension (VS Code, detected by ``$VSCODE_PID``; Google Colab, by ``google.colab`` being
    imported) and ``frontend`` elsewhere (JupyterLab 4 and Notebook 7 with ``meshprogress-nb`` installed).
    """
    if mode in MODES:
        return mode
    if mode != "auto":
        raise ValueError(f"mode must be 'auto', 'frontend' or 'kernel', not {mode!r}")
    forced = os.environ.get(MODE_ENV, "").strip().lower()
    if forced in MODES:
        return forced
    if os.environ.get("VSCODE_PID") or "google.colab" in sys.modules:
        return "kernel"
    return "frontend"


class KernelView:
    """Standard ipywidgets drawn from a hub widget's traits; ``box`` is what the notebook displays."""

    def __init__(self, widget: Any) -> None:
        self.widget = widget
        self.title = widgets.HTML()
        self.bar = widgets.FloatProgress(min=0.0, max=100.0, layout=widgets.Layout(width="100%"))
        self.info = widgets.HTML()
        self.counts = widgets.HTML()
        self.members = widgets.HTML()
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", tooltip="Cancel the job")
        self.retry_button = widgets.Button(description="Retry", icon="redo", tooltip="Start a new attempt")
        self.error = widgets.HTML()
        # A finished mesh's picture, drawn in the kernel (no three.js here); batches have none.
        self.picture = widgets.Image(format="png", layout=widgets.Layout(display="none", max_width="480px"))
        self._pictured: int | None = None
        self.cancel_button.on_click(lambda _: self._act(widget.cancel))
        self.retry_button.on_click(lambda _: self._act(widget.retry))
        children: list[widgets.Widget] = [self.title, self.bar, self.info]
        if hasattr(widget, "counts_text"):
            children += [self.counts, self.members]
        else:
            children.append(self.picture)
        children += [widgets.HBox([self.cancel_button, self.retry_button]), self.error]
        self.box = widgets.VBox(children, layout=widgets.Layout(max_width="640px"))
        # `version` is set last when a payload is applied, so one draw sees the whole payload.
        widget.observe(self.draw, names=["version", "connected", "error", "meshes"])
        self.draw()

    def _act(self, action: Any) -> None:
        from ..client import HubError

        self.widget.error = ""
        try:
            action()
        except (HubError, OSError, ValueError, RuntimeError) as exc:
            self.widget.error = str(exc)

    def draw(self, _change: Any = None) -> None:
        w = self.widget
        percent = 100.0 if w.status == "completed" else w.progress
        live = "● live" if w.connected else "○ not connected"
        self.title.value = f"<b>{escape(w.title())}</b> <small>{live}</small>"
        self.bar.value = percent
        self.bar.bar_style = BAR_STYLES.get(w.status, "")
        line = [format_percent(percent), w.detail()]
        eta = remaining_text(w.estimated_remaining) if w.status == "processing" else ""
        if eta:
            line.append(eta)
        self.info.value = escape(" · ".join(line))
        if hasattr(w, "counts_text"):
            self.counts.value = escape(w.counts_text())
            self.members.value = members_html(w)
        self.cancel_button.layout.display = "" if w.can_cancel else "none"
        self.retry_button.layout.display = "" if w.can_retry else "none"
        self.error.value = f'<span style="color:#d32f2f">{escape(w.error)}</span>' if w.error else ""
        if not hasattr(w, "counts_text"):
            self._draw_picture()

    def _draw_picture(self) -> None:
        """Once per finished attempt, draw its preview in a thread of its own (a second or more of work)."""
        w = self.widget
        if w.status != "completed" or w.subject_id is None:
            self._pictured = None
            self.picture.layout.display = "none"
        elif self._pictured != w.version:
            self._pictured = w.version
            thread = threading.Thread(target=self._render, args=(w.subject_id, w.version), daemon=True)
            thread.start()

    def _render(self, mesh_id: int, version: int) -> None:
        from ..client import HubError, MeshJob
        from .render import render_png

        try:
            png = render_png(MeshJob(self.widget.hub(), {"id": mesh_id}).mesh(preview=True))
        except (HubError, ImportError, OSError, ValueError):
            # No preview (a remote worker's result, a large one without a preview file, or meshio missing):
            # the widget's text says the job completed, which is what matters.
            self.picture.layout.display = "none"
            return
        if self._pictured == version and self.widget.subject_id == mesh_id:
            self.picture.value = png
            self.picture.layout.display = ""

    def close(self) -> None:
        self.widget.unobserve(self.draw, names=["version", "connected", "error", "meshes"])
        for child in (self.title, self.bar, self.info, self.counts, self.members, self.picture):
            child.close()
        for button in (self.cancel_button, self.retry_button):
            button.close()
        self.error.close()
        self.box.close()


def members_html(widget: Any) -> str:
    """A batch's listed members as escaped HTML lines, with the line counting the rest."""
    rows = widget.meshes[:KERNEL_MEMBER_ROWS]
    lines = []
    for row in rows:
        name = row.get("name") or f"Mesh {row.get('mesh_id')}"
        status = row.get("status", "")
        label = f"Failed: {row['message']}" if status == "failed" and row.get("message") else status_label(status)
        lines.append(f"{escape(name)}: {escape(format_percent(row.get('progress')))}, {escape(label)}")
    rest = rest_text(_counts(widget), rows)
    if rest:
        lines.append(f"<i>{escape(rest)}</i>")
    return "<br>".join(lines)


def _counts(widget: Any) -> dict[str, int]:
    return {
        name: getattr(widget, name) for name in ("total", "completed", "failed", "cancelled", "processing", "pending")
    }


def batch_members(jobs: Any, batch_id: int, limit: int = MEMBER_LIMIT) -> list[dict[str, Any]]:
    """A batch's failed and processing members, failed first, read as the browser reads them (``batch_id``).

    The member list of a batch answers anyone who may read the batch, however large it is; the user's own
    lists would miss members for readers and admins, and members past their newest jobs.
    """
    rows: list[dict[str, Any]] = []
    for status in ("failed", "processing"):
        query = f"meshes?batch_id={batch_id}&status={status}"
        for record in jobs.request("GET", query).get("meshes", []):
            if record.get("status") == status:
                rows.append(
                    {
                        "mesh_id": record.get("mesh_id", record.get("id")),
                        "name": record.get("name") or "",
                        "status": status,
                        "progress": record.get("progress") or 0.0,
                        "message": record.get("message") or "",
                    }
                )
    rows.sort(key=lambda row: (row["status"] != "failed", row["mesh_id"]))
    return rows[:limit]


def _members_stale(widget: Any) -> bool:
    failed = sum(1 for row in widget.meshes if row.get("status") == "failed")
    processing = sum(1 for row in widget.meshes if row.get("status") == "processing")
    return failed != widget.failed or processing != widget.processing


def poll(widget: Any) -> None:
    """Read one widget's state from the hub (and a batch's members when its counts moved); never raises.

    A failed read leaves the state as it was and says why in ``error``, with ``connected`` false.
    """
    from ..client import HubError

    if widget.subject_id is None:
        return
    try:
        widget.refresh()
        if hasattr(widget, "counts_text") and _members_stale(widget):
            widget.meshes = batch_members(widget.hub(), widget.subject_id)
    except HubError as exc:
        widget.set_trait("connected", False)
        widget.error = str(exc)
    except (OSError, urllib.error.URLError, ValueError, RuntimeError) as exc:
        widget.set_trait("connected", False)
        widget.error = f"Hub unreachable: {exc}"
    else:
        widget.connected = True
        widget.error = ""


class Poller:
    """One daemon thread that keeps every kernel-mode widget of the kernel current from the hub's REST API.

    Active widgets are read every ``interval`` seconds, finished ones every ``idle_interval`` (so a retry from
    elsewhere still shows). Widgets are held weakly and dropped once collected or closed (``widget.closed``):
    closing takes no lock, since ipywidgets closes widgets from ``__del__``, at any time, in any thread.
    """

    def __init__(self, interval: float = 1.0, idle_interval: float = 15.0) -> None:
        self.interval = interval
        self.idle_interval = idle_interval
        # id(widget) -> (weak reference, when it is due, the add() it came from)
        self._due: dict[int, tuple[weakref.ref[Any], float, object]] = {}
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, widget: Any) -> None:
        """Follow ``widget`` (again), with a first read at once."""
        with self._condition:
            self._due[id(widget)] = (weakref.ref(widget), 0.0, object())
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="meshprogress-poller", daemon=True)
                self._thread.start()
            self._condition.notify()

    def __contains__(self, widget: Any) -> bool:
        entry = self._due.get(id(widget))
        return entry is not None and entry[0]() is widget and not getattr(widget, "closed", True)

    def _run(self) -> None:
        while True:
            with self._condition:
                now = time.monotonic()
                due = [(key, ref, token) for key, (ref, at, token) in self._due.items() if at <= now]
                if not due:
                    next_at = min((at for _, at, _ in self._due.values()), default=None)
                    self._condition.wait(None if next_at is None else next_at - now)
                    continue
            for key, ref, token in due:
                widget = ref()
                if widget is not None and not widget.closed:
                    poll(widget)
                with self._condition:
                    entry = self._due.get(key)
                    if entry is None or entry[2] is not token:
                        continue  # added again meanwhile: then it is due at once
                    if widget is None or widget.closed:
                        del self._due[key]
                    else:
                        wait = self.idle_interval if widget.done else self.interval
                        self._due[key] = (ref, time.monotonic() + wait, token)


_poller: Poller | None = None
_poller_lock = threading.Lock()


def poller() -> Poller:
    """The kernel's poller, created on first use."""
    global _poller
    with _poller_lock:
        if _poller is None:
            _poller = Poller()
        return _poller
