"""Fan-out of stream updates to this server's cable subscribers, coalesced and never buffered without bound.

Each stream (``mesh_progress:{id}``, ``batch_progress:{id}``) is subscribed once per process, however many
clients watch it. An update is decoded once and encoded once per distinct cable identifier; a subscriber gets
at most one frame per ``interval``, always the latest, plus every status change at once. A client whose socket
is backed up holds at most one pending frame per stream: it gets the latest when it catches up.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from .backends import Backend
from .clock import Clock, Timer

log = logging.getLogger(__name__)

Loader = Callable[[str], Awaitable[bytes | None]]
"""Reads a stream's current payload from the store (used after the broker lost messages)."""


class Sink(Protocol):
    """A client connection that frames can be written to."""

    def send_frame(self, key: str, frame: bytes) -> None:
        """Send ``frame`` now, or keep it as the pending frame for ``key`` if the socket is backed up."""
        ...


class Subscription:
    """One cable subscription: where to send, under which identifier, and the last version it has seen."""

    __slots__ = ("sink", "identifier", "version", "active")

    def __init__(self, sink: Sink, identifier: str) -> None:
        self.sink = sink
        self.identifier = identifier
        self.version = 0
        self.active = False

    def activate(self, version: int) -> None:
        """Start receiving updates newer than ``version`` (the snapshot the client was just sent)."""
        self.version = version
        self.active = True


def message_frame(identifier: str, payload: bytes) -> bytes:
    """An ActionCable ``message`` frame around an already-encoded payload."""
    return b'{"identifier":' + json.dumps(identifier).encode() + b',"message":' + payload + b"}"


class Stream:
    """Coalesces one stream's updates and writes them to its local subscriptions."""

    def __init__(self, name: str, interval: float, clock: Clock) -> None:
        self.name = name
        self.clock = clock
        self.interval = interval
        self.subscriptions: list[Subscription] = []
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.version = 0
        self.status: str | None = None
        self.payload: bytes | None = None
        self._sent_version = 0
        self._sent_status: str | None = None
        self._last_flush = 0.0
        self._timer: Timer | None = None

    def receive(self, message: bytes) -> None:
        """Broker callback: keep the newest payload and flush it now or at the end of the interval."""
        try:
            decoded = json.loads(message)
            version, status = int(decoded["version"]), decoded.get("status")
        except (ValueError, KeyError, TypeError):
            log.warning("meshprogress: dropped a malformed message on %s", self.name)
            return
        if version <= self.version:
            return
        self.version, self.status, self.payload = version, status, message
        if status != self._sent_status:
            self.flush()  # status changes go out at once, even inside an interval
            return
        if self._timer is not None:
            return
        wait = self._last_flush + self.interval - self.clock.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self._timer = self.clock.call_later(wait, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.payload is None or self.version <= self._sent_version:
            return
        self._last_flush = self.clock.monotonic()
        self._sent_version, self._sent_status = self.version, self.status
        frames: dict[str, bytes] = {}
        for subscription in self.subscriptions:
            if not subscription.active or subscription.version >= self.version:
                continue
            frame = frames.get(subscription.identifier)
            if frame is None:
                frame = frames[subscription.identifier] = message_frame(subscription.identifier, self.payload)
            subscription.version = self.version
            subscription.sink.send_frame(self.name + subscription.identifier, frame)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class FanOut:
    """This process's streams: subscribes each once through the backend and drops it with its last watcher."""

    def __init__(self, backend: Backend, interval: float, loader: Loader, clock: Clock) -> None:
        self.backend = backend
        self.clock = clock
        self.interval = interval
        self.loader = loader
        self.streams: dict[str, Stream] = {}
        backend.on_reconnect(self.refresh)

    async def add(self, name: str, subscription: Subscription) -> None:
        """Returns once updates of ``name`` published from now on will reach ``subscription``."""
        stream = self.streams.get(name)
        if stream is None:
            stream = self.streams[name] = Stream(name, self.interval, self.clock)
            try:
                await self.backend.subscribe(name, stream.receive)
            except BaseException as exc:
                self.streams.pop(name, None)
                stream.close()
                if not stream.ready.done():
                    stream.ready.set_exception(exc)
                    stream.ready.exception()  # marked retrieved: waiters got it through their own await
                raise
            stream.ready.set_result(None)
        else:
            await asyncio.shield(stream.ready)
        stream.subscriptions.append(subscription)

    async def remove(self, name: str, subscription: Subscription) -> None:
        stream = self.streams.get(name)
        if stream is None or subscription not in stream.subscriptions:
            return
        stream.subscriptions.remove(subscription)
        if not stream.subscriptions:
            del self.streams[name]
            stream.close()
            await self.backend.unsubscribe(name, stream.receive)

    async def refresh(self) -> None:
        """After the broker lost messages, feed every stream its current state from the store."""
        for name, stream in list(self.streams.items()):
            try:
                payload = await self.loader(name)
            except Exception:
                log.exception("meshprogress: could not refresh %s", name)
                continue
            if payload is not None:
                stream.receive(payload)
