"""A forwarding server (``c.MeshProgress.service_url``) in front of a hub, without JupyterHub: what it passes on.

The "service" is an in-process hub (so the test can count its cable connections); the forwarding server is a
subprocess whose ``$JUPYTERHUB_API_TOKEN`` is alice's token at the service, as JupyterHub would give alice's server.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator

import httpx
import pytest
from tornado.httpclient import AsyncHTTPClient

from support.clients import CALLBACK, Cable
from support.inprocess import InProcessHub
from support.server import HubServer

pytestmark = pytest.mark.slow

API = "meshprogress/api/v1/"
WAIT = 20.0


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcessHub, HubServer]]:
    root = tmp_path_factory.mktemp("forward")
    service = InProcessHub(root / "service").start()
    os.environ["JUPYTERHUB_API_TOKEN"] = "alice-token"
    try:
        server = HubServer(root / "server", extra=f"c.MeshProgress.service_url = {service.url!r}").start()
    finally:
        del os.environ["JUPYTERHUB_API_TOKEN"]
    try:
        yield service, server
    finally:
        server.stop()
        service.stop()


def cable_connections(service: InProcessHub) -> int:
    assert service._app is not None
    (app,) = service._app.extension_manager.extension_apps["meshprogress_nb"]
    return len(app.parts.cable.connections)


async def until(condition, timeout: float = WAIT) -> None:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_the_api_and_the_cable_are_the_services_seen_as_the_servers_user(
    pair: tuple[InProcessHub, HubServer],
) -> None:
    service, server = pair
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": "token bob-token"}) as client:
        # Whoever the server lets in, the service sees the server's own user (under JupyterHub, only alice).
        created = await client.post(API + "meshes", json={"source": "a.png", "dispatch": False})
        assert created.status_code == 201, created.text
        job = created.json()
        assert job["user"] == "alice"
        assert job["callback"]["url"] == service.url + CALLBACK
        too_big = await client.post(API + "meshes", content=b"{" + b" " * 70_000 + b"}")
        assert (too_big.status_code, too_big.json()) == (413, {"error": "Request body too large"})
        # Dot segments (which httpx would resolve before sending) do not climb out of the API at the service.
        dotted = await AsyncHTTPClient().fetch(
            server.url + API + "meshes/1/../../../../api/status",
            headers={"Authorization": "token alice-token"},
            raise_error=False,
        )
        assert (dotted.code, json.loads(dotted.body)) == (404, {"error": "No such API route"})
        # The query goes on (a filter), the client's ?token= does not (the server's own token speaks for it).
        listed = await client.get(API + "meshes", params={"status": "pending", "token": "bob-token"})
        assert [m["id"] for m in listed.json()["meshes"]] == [job["id"]]
        unknown = await client.get(API + "nothing/here")
        assert (unknown.status_code, unknown.json()) == (404, {"error": "No such API route"})
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.get(API + f"meshes/{job['id']}")).status_code == 403
        report = await anonymous.post(
            CALLBACK,
            json={"job_id": job["job_id"], "progress": 40, "status": "processing"},
            headers={"X-Callback-Token": job["callback"]["token"]},
        )
        assert report.status_code == 202, report.text

    assert cable_connections(service) == 0
    cable = await Cable.connect(server.ws_url, "alice-token")
    try:
        assert await cable.next(timeout=WAIT) == {"type": "welcome"}
        await until(lambda: cable_connections(service) == 1)
        identifier = await cable.subscribe("MeshProgressChannel", mesh_id=job["id"])
        assert await cable.next(timeout=WAIT) == {"identifier": identifier, "type": "confirm_subscription"}
        assert (await cable.next(timeout=WAIT))["message"]["progress"] == 40
    finally:
        cable.close()
    await until(lambda: cable_connections(service) == 0)  # the client left: so did the relay

    unauthenticated = await Cable.connect(server.ws_url, None)
    try:
        frame = await unauthenticated.next(timeout=WAIT)
        assert frame == {"type": "disconnect", "reason": "unauthorized", "reconnect": False}
        assert cable_connections(service) == 0
    finally:
        unauthenticated.close()


async def test_when_the_service_goes_the_clients_are_told(pair: tuple[InProcessHub, HubServer]) -> None:
    service, server = pair
    cable = await Cable.connect(server.ws_url, "alice-token")
    try:
        assert await cable.next(timeout=WAIT) == {"type": "welcome"}
        await until(lambda: cable_connections(service) == 1)
        await asyncio.get_running_loop().run_in_executor(None, service.stop)
        frame = await cable.next(timeout=WAIT)
        assert frame == {"type": "disconnect", "reason": "server_restart", "reconnect": True}
        assert await cable.next(timeout=WAIT) == {"type": "_closed"}  # the relay closed the client's side too
    finally:
        cable.close()
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": "token alice-token"}) as client:
        gone = await client.get(API + "meshes")
        assert (gone.status_code, gone.json()) == (502, {"error": "Progress service unavailable, try again shortly"})
    retried = await Cable.connect(server.ws_url, "alice-token")
    try:
        frame = await retried.next(timeout=WAIT)
        assert frame == {"type": "disconnect", "reason": "service_unavailable", "reconnect": True}
    finally:
        retried.close()
