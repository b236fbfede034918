"""Which result links the widgets may show: one rule, checked by the hub (422) and by the worker SDK (at once).

A same-origin absolute path (``/user/alice/files/out.ply``), but not ``//host`` nor ``/\\host``, or an http(s)
URL; never a backslash or a control character, which browsers drop or read as ``/`` and so would turn
``/\\evil.example/x`` or ``/\\t/evil`` into a link to another host. Standard library only (the worker imports it).
"""

from __future__ import annotations

import re

RESULT_URL_PATTERN = (
    r"^(/|/[^/\\\x00-\x1f\x7f][^\\\x00-\x1f\x7f]*"
    r"|https?://[^/\\?#\x00-\x20\x7f]+([/?#][^\\\x00-\x20\x7f]*)?)$"
)
"""The rule as a regular expression that ECMA (the OpenAPI document) and Python read alike."""

_RESULT_URL = re.compile(RESULT_URL_PATTERN)


def is_result_link(url: str) -> bool:
    """True if the widgets may show ``url`` as a result link."""
    return _RESULT_URL.fullmatch(url) is not None
