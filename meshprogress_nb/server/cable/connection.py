"""The WebSocket endpoint ``<base_url>meshprogress/cable``: Jupyter's auth and origin rules, ActionCable frames."""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Hashable
from typing import Any

from tornado.iostream import StreamClosedError

from ..fanout import Subscription
from ..identity import Identity, identity_of
from . import protocol
from .endpoint import CableEndpoint
from .outbox import Outbox
from .server import CableServer

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
"""The WebSocket close code of a connection closed for breaking a limit (RFC 6455 7.4.1)."""


class CableHandler(CableEndpoint):
    """One ActionCable connection. Unauthenticated clients are told ``unauthorized`` and not to reconnect."""

    identity: Identity
    subscriptions: dict[str, tuple[str, Subscription]]

    def initialize(self, cable: CableServer) -> None:
        self.cable = cable
        self.subscriptions = {}
        self.outbox = Outbox()

    @property
    def max_message_size(self) -> int:
        return self.cable.config.max_frame_bytes

    async def open(self, *args: Any, **kwargs: Any) -> None:
        identity = identity_of(self.current_user, self.identity_provider)
        if identity is None:
            self.write_frame(protocol.disconnect("unauthorized", reconnect=False))
            self.close(1000, "unauthorized")  # a normal close, as Rails does (a bare close reads as 1005)
            return
        await self.cable.pace(identity.name)  # opening counts as a command: floods of connections wait their turn
        if self.ws_connection is None or self.ws_connection.is_closing():
            return
        if not self.cable.limits.open(identity.name):
            log.warning("meshprogress cable: refused a connection of %s: too many connections", identity.name)
            self.write_frame(protocol.disconnect("too_many_connections", reconnect=False))
            self.close(POLICY_VIOLATION, "too many connections for this user")
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
        """Send a frame that no later frame replaces (welcome, confirmations, disconnect)."""
        self.send_frame(object(), frame)

    def send_frame(self, key: Hashable, frame: bytes) -> None:
        """Send now if nothing waits, else hold ``frame`` in the outbox, replacing the one held under ``key``.

        Every frame takes this path, so the outbox bounds what the server holds for a client that does not read;
        a connection over ``outbox_bytes`` is closed.
        """
        connection = self.ws_connection
        if connection is None or connection.is_closing():
            return
        stream = connection.stream
        if stream is None:
            return
        if not self.outbox and not stream.writing():
            _write(stream, frame)
            return
        if self.outbox.put(key, frame, time.monotonic()) > self.cable.config.outbox_bytes:
            self.shut("outbox full: the client does not read its frames")
            return
        self.cable.congested.add(self)

    def flush_pending(self) -> bool:
        """Write the outbox once the socket has taken what it had; True once nothing is left to wait for.

        A connection whose outbox has waited ``outbox_timeout`` is closed: it does not drain.
        """
        connection = self.ws_connection
        if connection is None or connection.is_closing():
            self.outbox.take()
            return True
        stream = connection.stream
        if stream is None:
            self.outbox.take()
            return True
        if stream.writing():
            if self.outbox and time.monotonic() - self.outbox.since > self.cable.config.outbox_timeout:
                self.shut("the client did not read its frames in time")
                return True
            return False
        for frame in self.outbox.take():
            _write(stream, frame)
        return True

    def shut(self, reason: str) -> None:
        """Close a connection that breaks a limit, saying why (its frames are dropped)."""
        log.warning("meshprogress cable: closed a connection of %s: %s", self.identity.name, reason)
        self.outbox.take()
        self.close(POLICY_VIOLATION, reason)


def _write(stream: Any, frame: bytes) -> None:
    """Write one text frame, straight to the socket when nothing is queued before it.

    A broadcast writes the same frame to thousands of connections: tornado's ``write_message`` would build
    the WebSocket header, a Future and a Task for each. Here the header is built once per frame
    (:func:`wire_frame`) and an idle socket takes it in one ``send``; only the rest of a partial write goes
    through the stream's buffer, which keeps the order of frames.
    """
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
