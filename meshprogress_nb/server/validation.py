"""What every value entering the hub must be: valid Unicode text, finite numbers, and links the widget may show.

A lone surrogate (``"\\ud800"``, legal in JSON text) cannot be encoded as UTF-8, so a stored one made every later
payload of its job fail to encode; ``NaN``/``1e400`` are not JSON, so a stored one made the API answer non-JSON.
Both are refused at the edge, with a 422 naming the field.
"""

from __future__ import annotations

import math
from typing import Any

from ..links import is_result_link


class InvalidInput(Exception):
    """A request the hub refuses: ``status`` is the HTTP code, ``field`` the offending field if any."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


def text(value: str, field: str) -> str:
    """``value`` if it encodes as UTF-8 (no lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(422, f"{field} must be valid Unicode (it holds a lone surrogate)", field) from exc
    return value


def json_value(value: Any, field: str) -> Any:
    """``value`` (decoded JSON) if every string in it, keys included, is valid Unicode and every number finite."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            text(item, field)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise InvalidInput(422, f"{field} must hold only finite numbers", field)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


def result_url(value: str) -> str:
    """``value`` if the widgets may show it as a link (:mod:`meshprogress_nb.links`)."""
    if not is_result_link(text(value, "result_url")):
        raise InvalidInput(
            422,
            "result_url must be a same-origin absolute path (not starting with // or /\\) or an http(s) URL, "
            "without backslashes or control characters",
            "result_url",
        )
    return value
