"""One real JupyterHub for the package, configured by the documented example (server_extension/jupyterhub_config.py).

Its Redis is the test's own, with a password that only the meshprogress service is given.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import pytest
from hub_clients import Deployment
from hub_harness import JupyterHubProcess

from support.redis_server import RedisProcess

USERS = ["alice", "bob", "carol", "admin"]


@pytest.fixture(scope="package")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    redis = RedisProcess(tmp_path_factory.mktemp("redis"), password=secrets.token_urlsafe(24)).start()
    hub = JupyterHubProcess(
        tmp_path_factory.mktemp("jupyterhub"),
        users=USERS,
        groups={"mesh-readers": ["carol"]},
        redis_url=redis.url,
        redis_prefix="test-jupyterhub:",
    )
    try:
        hub.start()
        tokens = asyncio.run(_servers_and_tokens(hub))
        yield Deployment(hub, tokens, redis.port, redis.password)
    finally:
        hub.stop()
        redis.kill()


async def _servers_and_tokens(hub: JupyterHubProcess) -> dict[str, str]:
    await hub.spawn("alice", "bob", "carol")
    return {name: await hub.api_token(name) for name in USERS}
