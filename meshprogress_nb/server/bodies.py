"""Request bodies read as they arrive: a client makes the server hold at most the limit, and not for long.

Tornado otherwise buffers a whole body (up to jupyter-server's ``max_body_size``, 512 MiB) before any handler
code runs, so a size check in the handler comes too late to protect memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tornado import web
from tornado.http1connection import HTTP1Connection
from tornado.httputil import HTTPHeaders

from .callbacks import InvalidInput, parse_body

DRAIN_BYTES = 16 * 1024 * 1024
"""A body over its limit but under this is read and thrown away before the 413 goes out. Answered with the body
unread, the connection would close with data left in its receive buffer, which the kernel answers with a reset that
can destroy the 413 before the client reads it (behind JupyterHub's proxy, the client then got the proxy's own
HTML error page instead). Above this, the 413 goes out at once and the client may see only the reset."""
TOO_LARGE = "Request body too large"


def bound(connection: object, headers: HTTPHeaders, limit: int, timeout: float) -> bool:
    """Bound the body of the request whose ``headers`` arrived on ``connection``: a declared length over
    ``max(limit, DRAIN_BYTES)`` raises a 413 at once; a chunked body is cut off at ``limit``; a body that takes
    longer than ``timeout`` seconds to arrive is dropped with its connection. True when the body is over ``limit``:
    it is to be read, thrown away, then refused with a 413."""
    declared = headers.get("Content-Length", "0")
    length = int(declared) if declared.isdigit() else DRAIN_BYTES + 1
    if length > max(limit, DRAIN_BYTES):
        raise InvalidInput(413, TOO_LARGE)
    if isinstance(connection, HTTP1Connection):  # tornado's server: the one that reads bodies
        connection.set_max_body_size(max(limit, length))
        if "Transfer-Encoding" in headers or length > _buffered(connection):  # a body all here cannot stall
            connection.set_body_timeout(timeout)
    return length > limit


def _buffered(connection: HTTP1Connection) -> int:
    """Bytes tornado has read off the connection's socket and not yet handed on; -1 if it does not say.

    A worker's report arrives in the same packet as its headers, so its body is nearly always here already:
    its read then needs no timer (arming and cancelling one was 3 % of a callback's cost under load).
    """
    size = getattr(connection.stream, "_read_buffer_size", None)  # tornado's own count, private but long-stable
    return size if isinstance(size, int) else -1


@web.stream_request_body
class BoundedBody(web.RequestHandler):
    """A handler whose body is never held past a limit; call :meth:`bound_body` in ``prepare``."""

    _chunks: list[bytes]
    refusal: web.HTTPError | None = None
    """A refusal found before the body was read (authentication, XSRF, size), for the method to raise."""

    def defer(self, check: Callable[[], None]) -> None:
        """Run ``check`` now and keep the ``HTTPError`` it raises as :attr:`refusal`: refused before its body is
        read, a request's connection closes on the unread body and the client sees a reset, not the answer."""
        try:
            check()
        except web.HTTPError as exc:
            self.refusal = exc

    def bound_body(self, limit: int, timeout: float) -> None:
        """Bound this request's body (:func:`bound`); its 413 is raised now or kept as :attr:`refusal`."""
        self._chunks = []
        if bound(self.request.connection, self.request.headers, limit, timeout) and self.refusal is None:
            self.refusal = web.HTTPError(413, TOO_LARGE)

    def data_received(self, chunk: bytes) -> None:
        if self.refusal is None:  # a refused request's body is read only to be thrown away
            self._chunks.append(chunk)

    @property
    def body(self) -> bytes:
        """The body; raises the request's refusal, if it has one."""
        if self.refusal is not None:
            raise self.refusal
        return b"".join(self._chunks)

    def body_dict(self) -> dict[str, Any]:
        """The body as a JSON object (or a form), or a 4xx that says why not."""
        return parse_body(self.body, self.request.headers.get("Content-Type", "application/json"))
