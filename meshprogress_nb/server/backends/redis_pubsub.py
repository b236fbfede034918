"""One PubSub connection per server process, subscribed only to streams that have local subscribers.

Per-stream SUBSCRIBE (rather than one PSUBSCRIBE to everything) keeps each server of a JupyterHub from
receiving every other user's traffic. When Redis goes away the reader reconnects with backoff, subscribes
again to every stream, then tells its listeners so they can refresh state they may have missed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .base import BackendUnavailable, Subscriber

log = logging.getLogger(__name__)

CONTROL = "meshprogress:control"
"""Always subscribed, so the reader can block on the connection even when no stream is watched."""


class RedisSubscriptions:
    """Routes PubSub messages to in-process subscribers; restores subscriptions after connection loss."""

    def __init__(self, url: str, prefix: str, confirm_timeout: float = 5.0) -> None:
        self.url = url
        self.prefix = prefix
        self.confirm_timeout = confirm_timeout
        self.reconnect_callbacks: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._streams: dict[str, list[Subscriber]] = {}
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._client = aioredis.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=10)
        self._pubsub: aioredis.client.PubSub | None = None
        self._connected = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._ever_connected = False
        self._callbacks_running: set[asyncio.Task[None]] = set()  # kept: the loop holds tasks only weakly

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._run(), name="meshprogress-redis-pubsub")
        try:
            await asyncio.wait_for(self._connected.wait(), self.confirm_timeout)
        except asyncio.TimeoutError:
            log.warning("meshprogress: Redis at %s not reachable yet; will keep retrying", _safe(self.url))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self._client.aclose()

    async def subscribe(self, stream: str, subscriber: Subscriber) -> None:
        """Returns once Redis confirmed the stream's channel; on failure ``subscriber`` is not left registered."""
        subscribers = self._streams.setdefault(stream, [])
        subscribers.append(subscriber)
        try:
            if len(subscribers) > 1:
                confirmation = self._confirmations.get(stream)
                if confirmation is not None:
                    await asyncio.shield(confirmation)
                return
            if not self._connected.is_set():
                raise BackendUnavailable("Redis is not connected")
            await self._send_subscribe(stream)
        except BaseException:
            self._forget(stream, subscriber)
            raise

    def _forget(self, stream: str, subscriber: Subscriber) -> None:
        subscribers = self._streams.get(stream, [])
        if subscriber in subscribers:
            subscribers.remove(subscriber)
        if not subscribers:
            self._streams.pop(stream, None)

    async def _send_subscribe(self, stream: str) -> None:
        channel = self.prefix + stream
        confirmation = asyncio.get_running_loop().create_future()
        self._confirmations[stream] = confirmation
        try:
            assert self._pubsub is not None
            await self._pubsub.subscribe(channel)
            await asyncio.wait_for(asyncio.shield(confirmation), self.confirm_timeout)
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            raise BackendUnavailable(f"could not subscribe to {channel}: {exc}") from exc
        finally:
            self._confirmations.pop(stream, None)

    async def unsubscribe(self, stream: str, subscriber: Subscriber) -> None:
        subscribers = self._streams.get(stream)
        if not subscribers or subscriber not in subscribers:
            return
        subscribers.remove(subscriber)
        if subscribers:
            return
        del self._streams[stream]
        if self._pubsub is not None and self._connected.is_set():
            try:
                await self._pubsub.unsubscribe(self.prefix + stream)
            except (RedisError, OSError):
                log.debug("meshprogress: unsubscribe from %s failed; the next reconnect drops it", stream)

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._connect()
                delay = 0.1
                await self._read()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self._connected.is_set():
                    log.warning("meshprogress: lost Redis PubSub connection (%s); reconnecting", exc)
                self._connected.clear()
                for confirmation in self._confirmations.values():
                    if not confirmation.done():
                        confirmation.set_exception(BackendUnavailable("Redis connection lost"))
                await asyncio.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 5.0)

    async def _connect(self) -> None:
        if self._pubsub is not None:
            await self._pubsub.aclose()
        self._pubsub = self._client.pubsub()
        reconnecting = bool(self._streams) or self._ever_connected
        await self._pubsub.subscribe(self.prefix + CONTROL, *(self.prefix + s for s in self._streams))
        self._connected.set()
        if reconnecting:
            log.info("meshprogress: Redis PubSub restored (%d streams)", len(self._streams))
            for callback in self.reconnect_callbacks:
                task = asyncio.create_task(callback())
                self._callbacks_running.add(task)
                task.add_done_callback(self._callbacks_running.discard)
        self._ever_connected = True

    async def _read(self) -> None:
        assert self._pubsub is not None
        prefix_length = len(self.prefix)
        while True:
            message = await self._pubsub.get_message(timeout=None)
            if message is None:
                continue
            kind = message["type"]
            channel = message["channel"].decode()[prefix_length:]
            if kind == "message":
                for subscriber in tuple(self._streams.get(channel, ())):
                    try:
                        subscriber(message["data"])
                    except Exception:
                        log.exception("meshprogress: subscriber of %s failed", channel)
            elif kind == "subscribe":
                confirmation = self._confirmations.get(channel)
                if confirmation is not None and not confirmation.done():
                    confirmation.set_result(None)


def _safe(url: str) -> str:
    """The URL without its password, for logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"
