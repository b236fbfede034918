"""What every cable WebSocket endpoint shares: Jupyter's auth and origin rules, the ActionCable subprotocol."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado.websocket import WebSocketHandler

from . import protocol


class CableEndpoint(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """The hub's own cable and the forwarding one differ only in what they do with an open connection."""

    def get_compression_options(self) -> None:
        """No permessage-deflate: every subscriber of a broadcast can then be sent the very same bytes."""
        return None

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return protocol.SUBPROTOCOL if protocol.SUBPROTOCOL in subprotocols else None

    @allow_unauthenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        # Authentication is checked in open(), so that the client can be told why (ActionCable's `disconnect`).
        await super().get(*args, **kwargs)
