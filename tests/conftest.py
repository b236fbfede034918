"""Shared fixtures: real hub servers on both backends, and clients for two identities."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, settings

from support.clients import Api
from support.inprocess import InProcessHub
from support.node import CLIENT_DIR
from support.requirements import missing
from support.server import REDIS_URL, HubServer, on_backend

# A shared 2-core machine: bound fuzzing by example count, never by wall-clock deadlines.
settings.register_profile("meshprogress", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("meshprogress")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not redis_available():
        missing(f"Redis at {REDIS_URL} (start redis-server; see README)")
    return REDIS_URL


@pytest.fixture(scope="module", params=["embedded", "redis"])
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    """A running jupyter-server with the extension, on the embedded backend or on Redis, in this process."""
    server = on_backend(request, tmp_path_factory, "hub", InProcessHub).start()
    yield server
    server.stop()


@pytest.fixture
async def alice(hub: HubServer) -> AsyncIterator[Api]:
    async with Api(hub.url, "alice-token") as api:
        yield api


@pytest.fixture
async def bob(hub: HubServer) -> AsyncIterator[Api]:
    async with Api(hub.url, "bob-token") as api:
        yield api


@pytest.fixture
def tmp_root(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def node_client() -> Path:
    """The @rails/actioncable client script, its npm dependencies installed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("Node.js and npm (the official @rails/actioncable client runs in Node)")
    if not (CLIENT_DIR / "node_modules" / "@rails" / "actioncable").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENT_DIR, check=True, timeout=300)
    return CLIENT_DIR / "client.mjs"


TIERS = {"ui": ("browser", "slow"), "jupyterhub": ("jupyterhub", "slow"), "reliability": ("slow",), "bench": ("slow",)}
"""Test folders whose every test belongs to a marked tier."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by what they need: their folder's tier, and ``redis`` for each test run on Redis."""
    tests_dir = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(tests_dir).parts
        for mark in TIERS.get(parts[0], ()):
            item.add_marker(mark)
        callspec = getattr(item, "callspec", None)
        on_redis = callspec is not None and "redis" in callspec.params.values()
        if on_redis or "redis_url" in getattr(item, "fixturenames", ()):
            item.add_marker("redis")
