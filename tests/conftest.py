"""Shared fixtures: real hub servers on both backends, and clients for two identities."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, settings

from support.clients import Api
from support.node import CLIENT_DIR
from support.server import REDIS_URL, HubServer

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
        pytest.fail(f"Redis is required at {REDIS_URL} (start redis-server; see README)")
    return REDIS_URL


@pytest.fixture(scope="module", params=["embedded", "redis"])
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    """A running jupyter-server with the extension, on the embedded backend or on Redis."""
    root = tmp_path_factory.mktemp(f"hub-{request.param}")
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    server = HubServer(root, redis_url=url, redis_prefix=f"test-{uuid.uuid4().hex[:8]}:").start(timeout=90)
    yield server
    server.stop()


@pytest.fixture
async def alice(hub: HubServer) -> AsyncIterator[Api]:
    api = Api(hub.url, "alice-token")
    yield api
    await api.close()


@pytest.fixture
async def bob(hub: HubServer) -> AsyncIterator[Api]:
    api = Api(hub.url, "bob-token")
    yield api
    await api.close()


@pytest.fixture
def tmp_root(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def node_client() -> Path:
    """The @rails/actioncable client script, its npm dependencies installed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are required for the @rails/actioncable client test")
    if not (CLIENT_DIR / "node_modules" / "@rails" / "actioncable").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENT_DIR, check=True, timeout=300)
    return CLIENT_DIR / "client.mjs"
