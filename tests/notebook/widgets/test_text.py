"""The widgets' text formatting, on the cases the TypeScript front end is tested with too."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from meshprogress_nb.notebook.widgets.text import counts_text, format_eta, format_percent, remaining_text, status_label

CASES = json.loads((Path(__file__).with_name("format_cases.json")).read_text())


@pytest.mark.parametrize(("seconds", "expected"), CASES["eta"])
def test_format_eta(seconds: float | None, expected: str) -> None:
    assert format_eta(seconds) == expected


@pytest.mark.parametrize(("seconds", "expected"), CASES["remaining"])
def test_remaining_text(seconds: float | None, expected: str) -> None:
    assert remaining_text(seconds) == expected


@pytest.mark.parametrize(("progress", "expected"), CASES["percent"])
def test_format_percent(progress: float | None, expected: str) -> None:
    assert format_percent(progress) == expected


def test_format_eta_matches_the_seed_below_an_hour() -> None:
    """The seed's formatTime: ``45s`` under a minute, else ``Xm Ys``."""
    for seconds in range(3600):
        minutes, secs = divmod(seconds, 60)
        assert format_eta(seconds) == (f"{secs}s" if seconds < 60 else f"{minutes}m {secs}s")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -0.6])
def test_format_eta_unknown(value: float) -> None:
    assert format_eta(value) == ""


def test_format_eta_rounds_half_up_like_javascript() -> None:
    assert format_eta(0.5) == "1s"
    assert format_eta(2.5) == "3s"
    assert format_eta(59.5) == "1m 0s"


def test_format_percent_not_finite() -> None:
    assert format_percent(math.nan) == "0%"


def test_status_labels() -> None:
    assert status_label("") == "Connecting…"
    assert status_label("pending") == "Queued"
    assert status_label("cancelled") == "Cancelled"
    assert status_label("unheard-of") == "unheard-of"


@pytest.mark.parametrize(("counts", "expected"), CASES["counts"])
def test_counts_text(counts: dict[str, int], expected: str) -> None:
    assert counts_text(counts) == expected
