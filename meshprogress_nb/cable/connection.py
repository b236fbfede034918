"""The WebSocket endpoint ``<base_url>meshprogress/cable``: Jupyter's auth and origin rules, ActionCable frames."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError, WebSocketHandler

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
        if self.ws_connection is None or self.ws_connection.is_closing():
            return
        try:
            self.write_message(frame).add_done_callback(_consume)
        except (WebSocketClosedError, StreamClosedError):
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


def _consume(future: Any) -> None:
    """Retrieve a write's outcome: a client that went away mid-write is not an error worth a traceback."""
    if not future.cancelled():
        future.exception()
