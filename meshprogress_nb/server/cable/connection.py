"""The WebSocket endpoint ``<base_url>meshprogress/cable``: Jupyter's auth and origin rules, ActionCable frames."""

from __future__ import annotations

import struct
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketHandler

from ..fanout import Subscription
from ..hub import Identity
from ..identity import identity_of
from . import protocol
from .server import CableServer


class CableHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):  # type: ignore[misc]
    """One ActionCable connection. Unauthenticated clients are told ``unauthorized`` and not to reconnect."""

    identity: Identity
    subscriptions: dict[str, tuple[str, Subscription]]

    def initialize(self, cable: CableServer) -> None:
        self.cable = cable
        self.subscriptions = {}
        self._pending: dict[str, bytes] = {}

    @property
    def max_message_size(self) -> int:
        return self.cable.config.max_frame_bytes

    def get_compression_options(self) -> None:
        """No permessage-deflate: every subscriber of a broadcast can then be sent the very same bytes."""
        return None

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return protocol.SUBPROTOCOL if protocol.SUBPROTOCOL in subprotocols else None

    @allow_unauthenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        # Authentication is checked in open(), so that the client can be told why (ActionCable's `disconnect`).
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        identity = identity_of(self.current_user, self.identity_provider)
        if identity is None:
            self.write_frame(protocol.disconnect("unauthorized", reconnect=False))
            self.close()
            return
        self.identity = identity
        # Frames are small and often come in pairs (confirmation, then state): without this the second waits
        # for the client's delayed ACK (~40 ms, Nagle's algorithm).
        self.ws_connection.stream.set_nodelay(True)  # type: ignore[union-attr]
        self.cable.connections.add(self)
        self.write_frame(protocol.welcome())

    async def on_message(self, message: str | bytes) -> None:
        if getattr(self, "identity", None) is None:
            return
        await self.cable.handle(self, message)

    def on_close(self) -> None:
        if getattr(self, "identity", None) is not None:
            self.cable.forget(self)

    def write_frame(self, frame: bytes) -> None:
        """Send one text frame, straight to the socket when nothing is queued before it.

        A broadcast writes the same frame to thousands of connections: tornado's ``write_message`` would build
        the WebSocket header, a Future and a Task for each. Here the header is built once per frame
        (:func:`wire_frame`) and an idle socket takes it in one ``send``; only the rest of a partial write goes
        through the stream's buffer, which keeps the order of frames.
        """
        connection = self.ws_connection
        if connection is None or connection.is_closing():
            return
        stream = connection.stream  # type: ignore[attr-defined]
        data = wire_frame(frame)
        if not stream.writing():
            try:
                sent = stream.socket.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                stream.close(exc_info=True)  # the client went away: tornado calls on_close
                return
            if sent == len(data):
                return
            data = data[sent:]
        try:
            stream.write(data)
        except StreamClosedError:
            return

    def send_frame(self, key: str, frame: bytes) -> None:
        """Fan-out path: write now, or hold the latest frame per stream while the socket is backed up."""
        connection = self.ws_connection
        if connection is None or connection.is_closing():
            return
        if self._pending or connection.stream.writing():  # type: ignore[attr-defined]
            self._pending[key] = frame
            self.cable.congested.add(self)
            return
        self.write_frame(frame)

    def flush_pending(self) -> bool:
        connection = self.ws_connection
        if connection is None or connection.is_closing():
            self._pending.clear()
            return True
        if connection.stream.writing():  # type: ignore[attr-defined]
            return False
        pending, self._pending = self._pending, {}
        for frame in pending.values():
            self.write_frame(frame)
        return True


_last_frame: tuple[bytes, bytes] = (b"", b"")


def wire_frame(frame: bytes) -> bytes:
    """``frame`` as an unmasked, uncompressed WebSocket text frame (RFC 6455 5.2), what a server sends.

    The last result is kept: a broadcast passes the same ``frame`` object for every subscriber, so the header
    is built and the payload copied once per broadcast, not once per connection.
    """
    global _last_frame
    if _last_frame[0] is frame:
        return _last_frame[1]
    size = len(frame)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size <= 0xFFFF:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    data = header + frame
    _last_frame = (frame, data)
    return data
