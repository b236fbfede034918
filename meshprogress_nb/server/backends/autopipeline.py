"""Redis commands issued during one event-loop turn, sent in one pipeline round trip.

A busy hub writes many meshes at once (one compare-and-set per callback). Sent one by one, each write pays
redis-py's per-command cost (a pooled connection, a socket write and read, its own wake-up); queued and sent
together they pay it once per batch, and Redis answers them with one read and one write. Commands are packed by
hiredis (C) rather than redis-py's Python packer, the larger part of a write's client cost. A lone command goes
out on the next loop turn, so nothing waits for a batch to fill.
"""

from __future__ import annotations

import asyncio
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import ResponseError


class AutoPipeline:
    """Queues commands and sends each turn's queue as one pipeline on one pooled connection; one batch in flight."""

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
        """Write the batch packed by hiredis in one send, then read its replies in order on that connection."""
        pool = self.redis.connection_pool
        try:
            connection = await pool.get_connection()
        except Exception as exc:  # Redis is unreachable: every command of the batch shares the error
            for _, future in batch:
                _settle(future, exc)
            return
        try:
            await connection.send_packed_command(b"".join(hiredis.pack_command(command) for command, _ in batch))
            for _, future in batch:
                try:
                    reply = await connection.read_response()
                except ResponseError as exc:  # an error reply: the stream stays in step
                    reply = exc
                _settle(future, reply)
        except Exception as exc:  # the connection failed (read_response already dropped it)
            await connection.disconnect()
            for _, future in batch:
                _settle(future, exc)
        finally:
            await pool.release(connection)


def _settle(future: asyncio.Future[Any], reply: Any) -> None:
    if future.done():  # its caller was cancelled meanwhile
        return
    if isinstance(reply, Exception):
        future.set_exception(reply)
    else:
        future.set_result(reply)
