"""The workers' callback route, served below tornado's ``RequestHandler``.

Workers post thousands of reports a second, and this route needs none of what a ``RequestHandler`` sets up per
request (cookies, XSRF, auth, templates, default headers, the access log's Prometheus samples): its token is its
only credential. Measured with bench/run.py (wrk, 1,000 jobs), the handler cycle alone cost about as much as the
hub's whole work on a report, so the route is an ``HTTPMessageDelegate`` of its own, matched before every other
rule. It keeps the handlers' contract: the same bounds on bodies (:func:`.bodies.bound`), the same JSON errors
(:mod:`.errors`), a debug access line.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any

import orjson
from tornado import httputil

from .bodies import TOO_LARGE, bound
from .callbacks import parse_body, parse_callback
from .errors import EXPECTED, Answer, answer_for
from .hub import ProgressHub
from .validation import InvalidInput

log = logging.getLogger("meshprogress_nb.server.callbacks")
"""Access lines of accepted callbacks (debug: a busy fleet posts thousands a second), refusals (info) and
unexpected failures (error, with their traceback)."""

FORM = "application/x-www-form-urlencoded"
PATH = "meshprogress/api/v1/mesh_callbacks/progress"
"""The route, relative to the server's base URL; it takes POST only."""


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


class CallbackRoute(httputil.HTTPServerConnectionDelegate):
    """A tornado routing target: each callback request gets a :class:`CallbackRequest`."""

    def __init__(self, hub: ProgressHub) -> None:
        self.hub = hub
        self.tasks: set[asyncio.Task[None]] = set()
        """Reports being applied: held so that a task is not collected mid-way."""

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        return CallbackRequest(self, request_conn)


class CallbackRequest(httputil.HTTPMessageDelegate):
    """One callback: the body read within its bounds, the report applied, one JSON answer."""

    def __init__(self, route: CallbackRoute, connection: httputil.HTTPConnection) -> None:
        self.route = route
        self.connection = connection
        self.chunks: list[bytes] = []
        self.refusal: BaseException | None = None
        """Why the request is refused, found before its body was read; answered once the body is thrown away."""
        self.answered = False
        self.started = time.monotonic()

    def headers_received(
        self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine, headers: httputil.HTTPHeaders
    ) -> Awaitable[None] | None:
        assert isinstance(start_line, httputil.RequestStartLine)
        self.start_line = start_line
        self.headers = headers
        config = self.route.hub.config
        try:
            over = bound(self.connection, headers, config.max_body_bytes, config.body_timeout)
        except InvalidInput as exc:
            self.respond(answer_for(exc, 413, TOO_LARGE))  # unread: the connection then closes
            return None
        if start_line.method != "POST":
            self.refusal = InvalidInput(405, "Method Not Allowed")
        elif over:
            self.refusal = InvalidInput(413, TOO_LARGE)
        return None

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self.refusal is None and not self.answered:  # a refused body is read only to be thrown away
            self.chunks.append(chunk)
        return None

    def finish(self) -> None:
        if self.answered:
            return
        if self.refusal is not None:
            self.refuse(self.refusal)
            return
        task = asyncio.ensure_future(self.apply())
        self.route.tasks.add(task)
        task.add_done_callback(self.route.tasks.discard)

    def on_connection_close(self) -> None:
        self.answered = True  # nothing can be sent any more

    async def apply(self) -> None:
        try:
            content_type = self.headers.get("Content-Type", "application/json")
            data = parse_body(b"".join(self.chunks), content_type)
            job_id, report = parse_callback(data, from_form=content_type.startswith(FORM))
            applied = await self.route.hub.report(self.headers.get("X-Callback-Token"), job_id, report)
        except Exception as exc:  # noqa: BLE001 - every failure is answered; unexpected ones are logged too
            self.refuse(exc)
            return
        self.respond(Answer(202, {"status": "accepted", "job_id": job_id, "applied": applied}), orjson.dumps)

    def refuse(self, exc: BaseException) -> None:
        if not isinstance(exc, EXPECTED):
            log.error("meshprogress: callback failed", exc_info=exc)
        self.respond(answer_for(exc, 500, "Internal Server Error"))

    def respond(self, answer: Answer, encode: Callable[[Any], bytes] = _encode) -> None:
        """Send ``answer``; ``encode``: orjson for the 202 of every accepted report, ``json`` for errors (the
        handlers' spelling, which clients and tests compare)."""
        if self.answered:
            return
        self.answered = True
        body = encode(answer.body)
        headers = httputil.HTTPHeaders(
            {"Content-Type": "application/json", "Date": _date(), "Content-Length": str(len(body)), **answer.headers}
        )
        if answer.status == 405:
            headers["Allow"] = "POST"
        reason = httputil.responses.get(answer.status, "Unknown")
        start = httputil.ResponseStartLine("HTTP/1.1", answer.status, reason)
        self.connection.write_headers(start, headers, None if self.start_line.method == "HEAD" else body)
        self.connection.finish()
        _access(answer.status, self.start_line, self.started)


def _access(status: int, start_line: httputil.RequestStartLine, started: float) -> None:
    """The access line: debug for an accepted callback, info for a refusal (a misconfigured worker shows up)."""
    level = logging.DEBUG if status < 400 else logging.INFO
    if log.isEnabledFor(level):
        elapsed = 1000 * (time.monotonic() - started)
        log.log(level, "%d %s %s %.2fms", status, start_line.method, start_line.path, elapsed)


def _date() -> str:
    """The ``Date`` header (RFC 9110 asks an origin server for one)."""
    return _http_date(int(time.time()))


@functools.lru_cache(maxsize=1)
def _http_date(second: int) -> str:
    return formatdate(second, usegmt=True)
