"""Request bodies read as they arrive: a client makes the server hold at most the limit, and not for long.

Tornado otherwise buffers a whole body (up to jupyter-server's ``max_body_size``, 512 MiB) before any handler
code runs, so a size check in the handler comes too late to protect memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tornado import web
from tornado.http1connection import HTTP1Connection

from .callbacks import InvalidInput, parse_body


@web.stream_request_body
class BoundedBody(web.RequestHandler):
    """A handler whose body is refused past a limit before it is read; call :meth:`bound_body` in ``prepare``."""

    _chunks: list[bytes]
    refusal: web.HTTPError | None = None
    """An authentication or XSRF refusal found before the body was read, for the method to raise (see ``defer``)."""

    def defer(self, check: Callable[[], None]) -> None:
        """Run ``check`` now and keep the ``HTTPError`` it raises as :attr:`refusal`: refused before its body is
        read, a request's connection closes on the unread body and the client sees a reset, not the answer."""
        try:
            check()
        except web.HTTPError as exc:
            self.refusal = exc

    def bound_body(self, limit: int, timeout: float) -> None:
        """413 for a declared length over ``limit``; a chunked body is cut off at it; a body that takes longer
        than ``timeout`` seconds to arrive is dropped with its connection."""
        self._chunks = []
        length = self.request.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > limit:
            raise InvalidInput(413, "Request body too large")
        connection = self.request.connection
        if isinstance(connection, HTTP1Connection):  # tornado's server: the one that reads bodies
            connection.set_max_body_size(limit)
            connection.set_body_timeout(timeout)

    def data_received(self, chunk: bytes) -> None:
        self._chunks.append(chunk)

    @property
    def body(self) -> bytes:
        return b"".join(self._chunks)

    def body_dict(self) -> dict[str, Any]:
        """The body as a JSON object (or a form), or a 4xx that says why not."""
        return parse_body(self.body, self.request.headers.get("Content-Type", "application/json"))
