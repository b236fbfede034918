"""Commands of one event-loop turn go to Redis in one pipeline; each caller gets its own reply or error."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from meshprogress_nb.server.backends.autopipeline import AutoPipeline
from support.server import free_port


class CountingRedis(aioredis.Redis):
    """A real client that counts the pipelines it sends (each is one round trip)."""

    pipelines = 0

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        CountingRedis.pipelines += 1
        return super().pipeline(*args, **kwargs)


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[CountingRedis]:
    client = CountingRedis.from_url(redis_url, decode_responses=True)
    CountingRedis.pipelines = 0
    yield client
    await client.aclose()


async def test_concurrent_commands_share_round_trips_and_get_their_own_replies(client: CountingRedis) -> None:
    key = f"test-autopipeline-{uuid.uuid4().hex}"
    pipeline = AutoPipeline(client)
    replies = await asyncio.gather(*(pipeline.execute("RPUSH", key, i) for i in range(200)))
    assert sorted(replies) == list(range(1, 201))
    assert await client.lrange(key, 0, -1) == [str(i) for i in range(200)], "sent in the callers' order"
    assert CountingRedis.pipelines <= 2, CountingRedis.pipelines  # one turn's queue, plus at most a straggler
    await client.delete(key)


async def test_a_failing_command_fails_only_its_caller(client: CountingRedis) -> None:
    key = f"test-autopipeline-{uuid.uuid4().hex}"
    await client.set(key, "not a number")
    pipeline = AutoPipeline(client)
    good, bad = await asyncio.gather(
        pipeline.execute("GET", key), pipeline.execute("INCR", key), return_exceptions=True
    )
    assert good == "not a number" and isinstance(bad, ResponseError)
    assert await pipeline.execute("GET", key) == "not a number", "the pipeline keeps working"
    await client.delete(key)


async def test_a_lost_connection_fails_every_waiting_caller_and_nobody_hangs() -> None:
    client = aioredis.Redis(port=free_port(), socket_connect_timeout=1)  # nothing listens there
    pipeline = AutoPipeline(client)
    results = await asyncio.wait_for(
        asyncio.gather(*(pipeline.execute("PING") for _ in range(5)), return_exceptions=True), 10
    )
    assert all(isinstance(r, RedisConnectionError) for r in results), results
    await client.aclose()


async def test_a_cancelled_caller_leaves_the_others_their_replies(client: CountingRedis) -> None:
    pipeline = AutoPipeline(client)
    gone = asyncio.ensure_future(pipeline.execute("PING"))
    kept = asyncio.ensure_future(pipeline.execute("ECHO", "kept"))
    await asyncio.sleep(0)
    gone.cancel()
    assert await kept == "kept"
    assert gone.cancelled()
