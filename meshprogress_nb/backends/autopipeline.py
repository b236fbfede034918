"""Redis commands issued during one event-loop turn, sent in one pipeline round trip.

A busy hub writes many meshes at once (one compare-and-set per callback). Sent one by one, each write pays
redis-py's per-command cost (a pooled connection, a timeout, a socket write and read); queued and sent together
they pay it once per batch, and Redis answers them with one read and one write. A lone command goes out on the
next loop turn, so nothing waits for a batch to fill.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis


class AutoPipeline:
    """Queues commands and sends each turn's queue as one non-transactional pipeline; one batch in flight."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._queue: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def execute(self, *command: Any) -> Any:
        """The reply to ``command``; its error (connection or Redis) is raised to this caller only."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((command, future))
        if self._sender is None:
            self._sender = asyncio.ensure_future(self._send_queued())
        return await future

    async def _send_queued(self) -> None:
        batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                await self._send(batch)
        finally:
            self._sender = None
            for _, future in batch + self._queue:  # only if cancelled mid-send: no caller may wait forever
                future.cancel()
            self._queue = []

    async def _send(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for command, _ in batch:
                    pipe.execute_command(*command)
                replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # the connection failed: every command of the batch shares the error
            replies = [exc] * len(batch)
        for (_, future), reply in zip(batch, replies, strict=True):
            if future.done():  # its caller was cancelled meanwhile
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)
