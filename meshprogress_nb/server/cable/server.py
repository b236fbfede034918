"""The cable's per-process state: open connections, their subscriptions, pings and backed-up sockets."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from tornado.ioloop import PeriodicCallback

from ..backends import BackendUnavailable
from ..config import MeshProgress
from ..fanout import FanOut, Subscription, message_frame
from ..hub import ProgressHub
from ..identity import Identity
from ..streams import encode
from . import protocol
from .channels import Channel, Rejected, channels

log = logging.getLogger(__name__)

PING_SLICES = 10
"""Each ping interval is cut into this many ticks; a tick pings the connections of one slice."""


class Connection(Protocol):
    """What the server needs from a WebSocket connection."""

    identity: Identity
    subscriptions: dict[str, tuple[str, Subscription]]

    def write_frame(self, frame: bytes) -> None: ...

    def close(self, code: int | None = None, reason: str | None = None) -> None: ...

    def flush_pending(self) -> bool:
        """Write frames held while the socket was backed up; True once none is left."""
        ...


class CableServer:
    """Routes client commands to channels and keeps every connection pinged and drained."""

    def __init__(self, hub: ProgressHub, fanout: FanOut, config: MeshProgress) -> None:
        self.hub = hub
        self.fanout = fanout
        self.config = config
        self.channels: dict[str, Channel] = channels(hub)
        self.connections: set[Connection] = set()
        self.congested: set[Connection] = set()
        self._tasks: set[asyncio.Future[None]] = set()
        self._pinger = PeriodicCallback(self._ping, config.ping_interval * 1000 / PING_SLICES)
        self._ping_slice = 0
        self._drainer = PeriodicCallback(self._drain, max(config.broadcast_interval, 0.02) * 1000)

    def start(self) -> None:
        self._pinger.start()
        self._drainer.start()

    def stop(self) -> None:
        self._pinger.stop()
        self._drainer.stop()

    async def shutdown(self, grace: float) -> None:
        """Tell every client to reconnect (to another server, or to this one restarted), then close normally.

        Without this a stopping server drops its sockets and clients see an abnormal close (1006); with it the
        official ActionCable client reconnects at once. Waits at most ``grace`` seconds for the closing
        handshakes, so that a client that does not answer cannot hold the shutdown.
        """
        self.stop()
        frame = protocol.disconnect("server_restart", reconnect=True)
        for connection in tuple(self.connections):
            connection.write_frame(frame)
            connection.close(1000, "server restart")
        deadline = time.monotonic() + grace
        while self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for connection in tuple(self.connections):
            await self.closed(connection)
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _ping(self) -> None:
        """Ping one slice of the connections (each is pinged once per ``ping_interval``).

        Pinging everyone at once would be one burst of a write per connection, which a broadcast arriving at
        the same moment waits behind; slices by object hash keep every burst a tenth as long.
        """
        frame = protocol.ping(time.time())
        current, self._ping_slice = self._ping_slice, (self._ping_slice + 1) % PING_SLICES
        for connection in tuple(self.connections):
            if hash(connection) % PING_SLICES == current:
                connection.write_frame(frame)

    def _drain(self) -> None:
        for connection in tuple(self.congested):
            if connection.flush_pending():
                self.congested.discard(connection)

    async def handle(self, connection: Connection, raw: str | bytes) -> None:
        """One client frame. Protocol errors are logged and ignored, as ActionCable does."""
        try:
            command = protocol.parse_command(raw)
        except protocol.ProtocolError as exc:
            log.info("meshprogress cable: ignored a frame from %s: %s", connection.identity.name, exc)
            return
        if command.command == "subscribe":
            await self._subscribe(connection, command.identifier)
        elif command.command == "unsubscribe":
            await self._unsubscribe(connection, command.identifier)
        else:
            await self._perform(connection, command.identifier, command.data or "")

    async def _subscribe(self, connection: Connection, identifier: str) -> None:
        if identifier in connection.subscriptions:
            return  # already confirmed; clients may resend while waiting for the confirmation
        if len(connection.subscriptions) >= self.config.max_subscriptions:
            log.warning("meshprogress cable: %s hit the subscription limit", connection.identity.name)
            connection.write_frame(protocol.reject(identifier))
            return
        try:
            params = protocol.parse_identifier(identifier)
            channel = self.channels.get(params["channel"])
            if channel is None:
                raise Rejected(f"unknown channel {params['channel'][:60]!r}")
            resolved = await channel.current(connection.identity, params)
            subscription = Subscription(connection, identifier)  # type: ignore[arg-type]
            await self.fanout.add(resolved.stream, subscription)
        except (protocol.ProtocolError, Rejected, BackendUnavailable) as exc:
            log.info("meshprogress cable: rejected a subscription of %s: %s", connection.identity.name, exc)
            connection.write_frame(protocol.reject(identifier))
            return
        connection.subscriptions[identifier] = (resolved.stream, subscription)
        try:
            # Read again now that the stream is subscribed: nothing published since can be missed.
            current = (await channel.current(connection.identity, params)).payload
        except (Rejected, BackendUnavailable):
            current = resolved.payload
        connection.write_frame(protocol.confirm(identifier))
        self.transmit(connection, identifier, current)
        subscription.activate(int(current["version"]))

    async def _unsubscribe(self, connection: Connection, identifier: str) -> None:
        entry = connection.subscriptions.pop(identifier, None)
        if entry is not None:
            await self.fanout.remove(*entry)

    async def _perform(self, connection: Connection, identifier: str, data: str) -> None:
        entry = connection.subscriptions.get(identifier)
        if entry is None:
            log.info("meshprogress cable: %s performed on an unknown subscription", connection.identity.name)
            return
        try:
            request = protocol.parse_data(data)
            params = protocol.parse_identifier(identifier)
            payload = await self.channels[params["channel"]].perform(connection.identity, params, request["action"])
        except (protocol.ProtocolError, Rejected, BackendUnavailable) as exc:
            log.info("meshprogress cable: ignored an action of %s: %s", connection.identity.name, exc)
            return
        if payload is not None:
            subscription = entry[1]
            subscription.version = max(subscription.version, int(payload["version"]))
            self.transmit(connection, identifier, payload)

    def transmit(self, connection: Connection, identifier: str, payload: dict[str, Any]) -> None:
        connection.write_frame(message_frame(identifier, encode(payload)))

    def forget(self, connection: Connection) -> None:
        """A connection closed: drop its subscriptions in the background (the handler is gone)."""
        task = asyncio.ensure_future(self.closed(connection))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def closed(self, connection: Connection) -> None:
        self.connections.discard(connection)
        self.congested.discard(connection)
        for stream, subscription in connection.subscriptions.values():
            await self.fanout.remove(stream, subscription)
        connection.subscriptions.clear()
