"""The one mapping from the hub's exceptions to HTTP answers, shared by the handlers and the callback route."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tornado import web

from ..state import Conflict
from .backends import BackendUnavailable
from .hub import Forbidden, NotFound
from .quotas import QuotaExceeded
from .tokens import InvalidToken
from .validation import InvalidInput

EXPECTED = (InvalidInput, InvalidToken, Conflict, NotFound, Forbidden, QuotaExceeded, BackendUnavailable, web.HTTPError)
"""What a client's request can raise: answered with its status, never logged as a server error."""


@dataclass
class Answer:
    """An error's status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def answer_for(exc: BaseException | None, status: int, reason: str) -> Answer:
    """The answer to ``exc``; ``status`` and ``reason`` stand for anything the hub did not raise itself."""
    if isinstance(exc, InvalidInput):
        body: dict[str, Any] = {"error": str(exc)}
        if exc.field:
            body["field"] = exc.field
        return Answer(exc.status, body)
    if isinstance(exc, InvalidToken):
        return Answer(401, {"error": "Invalid callback token"})
    if isinstance(exc, Conflict):
        return Answer(409, {"error": str(exc), "status": exc.status.value})
    if isinstance(exc, NotFound):
        return Answer(404, {"error": str(exc)})
    if isinstance(exc, Forbidden):
        return Answer(403, {"error": str(exc)})
    if isinstance(exc, QuotaExceeded):
        body = {"error": str(exc), "limit": exc.limit, "value": exc.value}
        return Answer(429, body, {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, BackendUnavailable):
        return Answer(503, {"error": "Progress store unavailable, try again shortly"}, {"Retry-After": "1"})
    if isinstance(exc, web.HTTPError):
        return Answer(status, {"error": exc.log_message or reason})
    return Answer(status, {"error": reason})
