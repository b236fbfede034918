"""Text for progress displays: ETA, percent and status labels.

The TypeScript views (``labextension/src/logic.ts``) format the same way; both are tested against
``tests/notebook/widgets/format_cases.json``. Rounding is half-up, like JavaScript's ``Math.round``, so the two agree.
"""

from __future__ import annotations

import math
from typing import Any

STATUS_LABELS: dict[str, str] = {
    "": "Connecting…",
    "pending": "Queued",
    "processing": "Processing",
    "completed": "Completed",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def format_eta(seconds: float | None) -> str:
    """Seconds as ``45s``, ``1m 5s`` or ``2h 3m``; ``""`` when unknown (None, negative or not finite)."""
    if seconds is None or isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
        return ""
    total = _round_half_up(seconds)
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m {total % 60}s"
    return f"{total // 3600}h {total % 3600 // 60}m"


def remaining_text(seconds: float | None) -> str:
    """``Est. 1m 5s remaining``, or ``""`` when the estimate is unknown."""
    eta = format_eta(seconds)
    return f"Est. {eta} remaining" if eta else ""


def format_percent(progress: float | None) -> str:
    """Progress clamped to 0..100 with at most one decimal: ``42%``, ``42.5%``."""
    if progress is None or not math.isfinite(progress):
        progress = 0.0
    tenths = _round_half_up(min(100.0, max(0.0, progress)) * 10)
    return f"{tenths // 10}%" if tenths % 10 == 0 else f"{tenths / 10:.1f}%"


def status_label(status: str) -> str:
    """Human label of a status; ``""`` (no payload yet) reads as connecting."""
    return STATUS_LABELS.get(status, status)


def counts_text(counts: dict[str, int]) -> str:
    """``3 completed, 1 failed of 4``: a batch's ended members by outcome, out of all its members."""
    parts = [f"{counts.get('completed', 0)} completed"]
    parts += [f"{n} {status}" for status in ("failed", "cancelled") if (n := counts.get(status, 0))]
    return f"{', '.join(parts)} of {counts.get('total', 0)}"


def rest_text(counts: dict[str, int], rows: list[dict[str, Any]]) -> str:
    """``and 950 more meshes: 812 completed, 138 pending``: a batch's members not in ``rows``, by status.

    The same text as the front end's ``restText`` (labextension/src/members.ts); empty when all are listed.
    """
    rest = max(0, counts.get("total", 0) - len(rows))
    if rest == 0:
        return ""
    listed: dict[str, int] = {}
    for row in rows:
        listed[row.get("status", "")] = listed.get(row.get("status", ""), 0) + 1
    parts = [
        f"{n} {status}"
        for status in ("processing", "failed", "pending", "cancelled", "completed")
        if (n := max(0, counts.get(status, 0) - listed.get(status, 0))) > 0
    ]
    noun = "mesh" if rest == 1 else "meshes"
    return f"and {rest} more {noun}: {', '.join(parts)}" if parts else f"and {rest} more {noun}"
