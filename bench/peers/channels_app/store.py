"""Mesh state in Redis hashes, and the payload every subscriber is sent (the hub's shape, compact JSON)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import redis.asyncio as aioredis
from django.conf import settings

_redis: aioredis.Redis | None = None


def redis() -> aioredis.Redis:
    global _redis
    if _redis is None:
        _redis = aioredis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    return _redis


def key(mesh_id: int) -> str:
    return f"{settings.PREFIX}mesh:{mesh_id}"


def next_id_key() -> str:
    return f"{settings.PREFIX}mesh:next_id"


def payload(mesh_id: int, fields: dict[str, str]) -> str:
    updated = float(fields.get("updated_at") or time.time())
    return json.dumps(
        {
            "mesh_id": mesh_id,
            "status": fields.get("status", "pending"),
            "progress": float(fields.get("progress") or 0),
            "message": fields.get("message", ""),
            "updated_at": datetime.fromtimestamp(updated, timezone.utc).isoformat(timespec="milliseconds"),
            "estimated_remaining": None,
            "version": int(fields.get("version") or 1),
            "name": fields.get("name", ""),
            "batch_id": None,
            "result_url": None,
        },
        separators=(",", ":"),
    )


async def current(mesh_id: int) -> str | None:
    fields = await redis().hgetall(key(mesh_id))
    return payload(mesh_id, fields) if fields else None
