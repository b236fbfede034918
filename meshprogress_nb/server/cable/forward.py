"""The cable of a forwarding server (see ``..forward``): one WebSocket to the service per client, frame by frame.

The client is authenticated by this server (Jupyter's auth and origin rules, as for the cable itself); the
service sees the server's ``$JUPYTERHUB_API_TOKEN``, so the same hub user. Either side closing closes the other.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from ..forward import CONNECT_TIMEOUT, Upstream
from ..identity import identity_of
from . import protocol
from .endpoint import CableEndpoint

UPSTREAM_MAX_FRAME = 16 * 1024 * 1024
"""Largest frame taken from the service (its job payloads), far above any it sends."""


class CableForwardHandler(CableEndpoint):
    """One client connection relayed to the service; the service's welcome, pings and frames pass through."""

    def initialize(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.service: WebSocketClientConnection | None = None
        self._relay: asyncio.Future[None] | None = None  # held: the loop keeps only weak references to tasks

    @property
    def max_message_size(self) -> int:
        return self.upstream.max_frame_bytes

    async def open(self, *args: Any, **kwargs: Any) -> None:
        if identity_of(self.current_user, self.identity_provider) is None:
            self._tell("unauthorized", reconnect=False)
            return
        request = HTTPRequest(
            self.upstream.url("cable").replace("http", "ws", 1),
            headers={"Authorization": f"token {self.upstream.token}"},
            connect_timeout=CONNECT_TIMEOUT,
            request_timeout=CONNECT_TIMEOUT,
        )
        try:
            service = await websocket_connect(
                request, subprotocols=[protocol.SUBPROTOCOL], max_message_size=UPSTREAM_MAX_FRAME
            )
        except (HTTPClientError, OSError):
            self._tell("service_unavailable", reconnect=True)
            return
        if self.ws_connection is None or self.ws_connection.is_closing():  # the client left meanwhile
            service.close()
            return
        self.service = service
        self._relay = asyncio.ensure_future(self._from_service(service))

    async def _from_service(self, service: WebSocketClientConnection) -> None:
        """Frames of the service to the client, one at a time: a slow client slows this reader, not memory."""
        while (message := await service.read_message()) is not None:
            try:
                await self.write_message(message, binary=isinstance(message, bytes))
            except WebSocketClosedError:
                service.close()
                return
        self.close(1000 if service.close_code == 1000 else 1011, service.close_reason or "service closed")

    async def on_message(self, message: str | bytes) -> None:
        if self.service is None:
            return
        try:
            await self.service.write_message(message, binary=isinstance(message, bytes))
        except WebSocketClosedError:
            self.close(1011, "service closed")

    def on_close(self) -> None:
        if self.service is not None:
            self.service.close()

    def _tell(self, reason: str, *, reconnect: bool) -> None:
        self.write_message(protocol.disconnect(reason, reconnect).decode())
        self.close(1000, reason)  # a normal close, as Rails does
