"""The cable's per-process state: open connections, their subscriptions, pings and backed-up sockets."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Hashable
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
from .limits import OversizedIdentifier, UserLimits, checked_identifier
from .outbox import PING
from .pacing import CommandPacer

log = logging.getLogger(__name__)

PING_SLICES = 10
"""Each ping interval is cut into this many ticks; a tick pings the connections of one slice."""


class Connection(Protocol):
    """What the server needs from a WebSocket connection."""

    identity: Identity
    subscriptions: dict[str, tuple[str, Subscription]]

    def send_frame(self, key: Hashable, frame: bytes) -> None:
        """Send ``frame`` now, or hold it in the bounded outbox, replacing the frame held under ``key``."""
        ...

    def write_frame(self, frame: bytes) -> None:
        """Send a frame that no later frame replaces."""
        ...

    def close(self, code: int | None = None, reason: str | None = None) -> None: ...

    def flush_pending(self) -> bool:
        """Write frames held while the socket was backed up; True once none is left."""
        ...

    def shut(self, reason: str) -> None:
        """Close the connection for breaking a limit, saying why."""
        ...


class CableServer:
    """Routes client commands to channels and keeps every connection pinged and drained."""

    def __init__(self, hub: ProgressHub, fanout: FanOut, config: MeshProgress) -> None:
        self.hub = hub
        self.fanout = fanout
        self.config = config
        self.channels: dict[str, Channel] = channels(hub)
        self.id_params = {name: channel.id_param for name, channel in self.channels.items()}
        self.limits = UserLimits(config)
        self.pacer = CommandPacer(config.cable_commands_per_second)
        self.connections: set[Connection] = set()
        self._warned: weakref.WeakSet[Any] = weakref.WeakSet()
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
                connection.send_frame(PING, frame)

    def _drain(self) -> None:
        for connection in tuple(self.congested):
            if connection.flush_pending():
                self.congested.discard(connection)

    async def handle(self, connection: Connection, raw: str | bytes) -> None:
        """One client frame, in its user's turn. Protocol errors are logged and ignored, as ActionCable does."""
        await self.pace(connection.identity.name)
        try:
            command = protocol.parse_command(raw)
        except protocol.ProtocolError as exc:
            log.debug("meshprogress cable: ignored a frame from %s: %s", connection.identity.name, exc)
            return
        if command.command == "subscribe":
            await self._subscribe(connection, command.identifier)
        elif command.command == "unsubscribe":
            await self._unsubscribe(connection, command.identifier)
        else:
            await self._perform(connection, command.identifier, command.data or "")

    async def pace(self, user: str) -> None:
        """Wait for ``user``'s turn (``cable_commands_per_second``)."""
        delay = self.pacer.delay(user, time.monotonic())
        if delay > 0:
            await asyncio.sleep(delay)

    async def _subscribe(self, connection: Connection, identifier: str) -> None:
        if identifier in connection.subscriptions:
            return  # already confirmed; clients may resend while waiting for the confirmation
        user = connection.identity.name
        if len(connection.subscriptions) >= self.config.max_subscriptions:
            self._reject(connection, identifier, "hit the subscription limit of a connection", limit=True)
            return
        try:
            params = checked_identifier(identifier, self.config.max_identifier_bytes, self.id_params)
        except OversizedIdentifier as exc:
            connection.shut(str(exc))
            return
        except protocol.ProtocolError as exc:
            self._reject(connection, identifier, str(exc))
            return
        if not self.limits.reserve_subscription(user):
            self._reject(connection, identifier, "hit the subscription limit of a user", limit=True)
            return
        channel = self.channels[params["channel"]]
        try:
            stream = channel.stream_for(params)
            if any(stream == held for held, _ in connection.subscriptions.values()):
                raise Rejected("already subscribed to this stream under another identifier")
            resolved = await channel.current(connection.identity, params)
            subscription = Subscription(connection, identifier)
            await self.fanout.add(resolved.stream, subscription)
        except (Rejected, BackendUnavailable) as exc:
            self.limits.release_subscription(user)
            self._reject(connection, identifier, str(exc))
            return
        if connection not in self.connections:  # it closed while the stream was being subscribed
            self.limits.release_subscription(user)
            await self.fanout.remove(resolved.stream, subscription)
            return
        connection.subscriptions[identifier] = (resolved.stream, subscription)
        try:
            # Read again now that the stream is subscribed: nothing published since can be missed.
            current = (await channel.current(connection.identity, params)).payload
        except (Rejected, BackendUnavailable):
            current = resolved.payload
        connection.write_frame(protocol.confirm(identifier))
        self.transmit(connection, resolved.stream, identifier, current)
        subscription.activate(int(current["version"]))

    def _reject(self, connection: Connection, identifier: str, reason: str, limit: bool = False) -> None:
        """``reject_subscription``; a limit is logged once per connection (a flood would be a line per frame)."""
        if limit and connection not in self._warned:
            self._warned.add(connection)
            log.warning("meshprogress cable: %s %s", connection.identity.name, reason)
        else:
            log.debug("meshprogress cable: rejected a subscription of %s: %s", connection.identity.name, reason)
        connection.send_frame(("reject", identifier), protocol.reject(identifier))

    async def _unsubscribe(self, connection: Connection, identifier: str) -> None:
        entry = connection.subscriptions.pop(identifier, None)
        if entry is not None:
            self.limits.release_subscription(connection.identity.name)
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
            stream, subscription = entry
            subscription.version = max(subscription.version, int(payload["version"]))
            self.transmit(connection, stream, identifier, payload)

    def transmit(self, connection: Connection, stream: str, identifier: str, payload: dict[str, Any]) -> None:
        """A subscription's payload, under the key its broadcasts use: a newer one replaces it in the outbox."""
        connection.send_frame(stream + identifier, message_frame(identifier, encode(payload)))

    def forget(self, connection: Connection) -> None:
        """A connection closed: drop its subscriptions in the background (the handler is gone)."""
        task = asyncio.ensure_future(self.closed(connection))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def closed(self, connection: Connection) -> None:
        self.connections.discard(connection)
        self.congested.discard(connection)
        user = connection.identity.name
        self.limits.close(user)
        if not self.limits.connections[user]:
            self.pacer.forget(user)
        subscriptions = list(connection.subscriptions.values())
        connection.subscriptions.clear()
        for stream, subscription in subscriptions:
            self.limits.release_subscription(user)
            await self.fanout.remove(stream, subscription)
