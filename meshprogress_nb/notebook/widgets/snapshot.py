"""A small static rendering of a widget's state, kept in the notebook's output next to the live widget.

Frontends that cannot run the widget (nbviewer, GitHub, nbconvert, a notebook reopened without its kernel)
show this instead: a native ``<progress>`` bar and one or two lines of text, every value escaped, no script,
no style sheet, well under a kilobyte.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .text import format_percent, remaining_text

#: Longest title or status line kept, in characters (worker messages can be long).
MAX_TEXT = 200
#: Accent colour of each status, as in the live widget's CSS states.
COLOURS = {
    "processing": "#1976d2",
    "completed": "#388e3c",
    "failed": "#d32f2f",
    "cancelled": "#f57c00",
}


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def snapshot_html(widget: Any) -> str:
    """The static HTML of a ``ProgressWidget`` or ``BatchProgressWidget`` (anything with their methods)."""
    percent = 100.0 if widget.status == "completed" else widget.progress
    line = [format_percent(percent), widget.detail()]
    eta = remaining_text(widget.estimated_remaining) if widget.status == "processing" else ""
    if eta:
        line.append(eta)
    counts = widget.counts_text() if hasattr(widget, "counts_text") else ""
    if counts and widget.done:
        line = []  # an ended batch reads as its outcome: "3 completed, 1 failed of 4"
    colour = COLOURS.get(widget.status, "#9e9e9e")
    parts = [
        f'<div class="meshprogress-snapshot" data-status="{escape(widget.status or "unknown")}" '
        f'data-{widget._id_trait.replace("_", "-")}="{widget.subject_id if widget.subject_id is not None else ""}" '
        f'style="max-width:640px;padding:4px 8px;border-left:4px solid {colour}">',
        f"<strong>{escape(_short(widget.title()))}</strong><br>",
        f'<progress max="100" value="{percent:g}" style="width:100%">{escape(format_percent(percent))}</progress><br>',
    ]
    parts += [f"<span>{escape(_short(' · '.join(line)))}</span>"] if line else []
    if counts:
        parts.append(f"{'<br>' if line else ''}<span>{escape(counts)}</span>")
    parts.append("</div>")
    return "".join(parts)
