"""In-process fixtures for the server's core: a hub on each backend, driven by a clock the test moves."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from meshprogress_nb.server.backends import make_backend
from meshprogress_nb.server.config import MeshProgress
from meshprogress_nb.server.hub import ProgressHub
from meshprogress_nb.server.tokens import CallbackTokens
from support.clock import ManualClock
from support.core import Core

SECRET = "in-process-test-secret-of-at-least-32-bytes"


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.redis)])
async def core(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Core]:
    """A hub on the embedded store or on Redis (a fresh key prefix), with no server around it."""
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    config = MeshProgress(
        redis_url=redis_url,
        redis_prefix=f"test-{uuid.uuid4().hex[:8]}:",
        database_path=str(tmp_path / "state.sqlite3"),
        secret=SECRET,
        stall_timeout=30.0,
        stall_check_interval=5.0,
    )
    clock = ManualClock()
    hub = ProgressHub(
        config,
        make_backend(config),
        CallbackTokens(SECRET, 3600),
        api_path="/meshprogress/api/v1/",
        callback_url=lambda: "http://127.0.0.1:1/callback",
        clock=clock,
    )
    await hub.backend.start()
    yield Core(hub, clock)
    await hub.close()
