"""End to end on a real JupyterHub: users' servers and the meshprogress service share Redis behind the hub's proxy.

One hub for the module, configured by the documented example (server_extension/jupyterhub_config.py): the proxy
(configurable-http-proxy), alice's and bob's spawned servers, and the service. Users are authenticated by the hub,
with API tokens or a login session and OAuth cookies; workers only by their callback token.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
from hub_harness import JupyterHubProcess
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from support.clients import CALLBACK, Cable

pytestmark = pytest.mark.timeout(170)

MESH = "MeshProgressChannel"
API = "meshprogress/api/v1/"
USERS = ["alice", "bob", "carol", "admin"]
WAIT = 30.0  # seconds: generous, the machine is shared


@dataclass
class Deployment:
    hub: JupyterHubProcess
    tokens: dict[str, str]

    def api(self, base: str, user: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"token {self.tokens[user]}"} if user else {}
        return httpx.AsyncClient(base_url=base, headers=headers, timeout=WAIT)

    def cable_url(self, base: str) -> str:
        return base.replace("http://", "ws://", 1) + "meshprogress/cable"


@pytest.fixture(scope="module")
def deployment(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    prefix = f"test-jupyterhub-{uuid.uuid4().hex[:8]}:"
    hub = JupyterHubProcess(
        tmp_path_factory.mktemp("jupyterhub"),
        users=USERS,
        groups={"mesh-readers": ["carol"]},
        redis_url=redis_url,
        redis_prefix=prefix,
    )
    try:
        hub.start()
        tokens = asyncio.run(_servers_and_tokens(hub))
        yield Deployment(hub, tokens)
    finally:
        hub.stop()
        store = redis.Redis.from_url(redis_url)
        keys = list(store.scan_iter(match=prefix + "*"))
        if keys:
            store.delete(*keys)


async def _servers_and_tokens(hub: JupyterHubProcess) -> dict[str, str]:
    await hub.spawn("alice", "bob")
    return {name: await hub.api_token(name) for name in USERS}


async def create_mesh(deployment: Deployment, base: str, user: str) -> dict[str, Any]:
    async with deployment.api(base, user) as api:
        response = await api.post(API + "meshes", json={"source": "images/brain.png", "dispatch": False})
    assert response.status_code == 201, response.text
    return response.json()


async def connect(url: str, token: str | None = None, headers: dict[str, str] | None = None) -> Cable:
    """The Python ActionCable client, by hub token (``?token=``) or with a browser's cookies and Origin.

    JupyterHub reads ``?token=`` only on requests that say they are WebSockets, as browsers do.
    """
    headers = {"Sec-Fetch-Mode": "websocket", **(headers or {})}
    request = HTTPRequest(url + (f"?token={token}" if token else ""), headers=headers, connect_timeout=WAIT)
    return Cable(await websocket_connect(request, subprotocols=["actioncable-v1-json"]))


async def open_cable(url: str, token: str | None = None, headers: dict[str, str] | None = None) -> Cable:
    cable = await connect(url, token, headers)
    assert await cable.next(timeout=WAIT) == {"type": "welcome"}
    return cable


async def watch(cable: Cable, mesh_id: int) -> dict[str, Any]:
    """Subscribe to a mesh; returns the payload transmitted on confirmation."""
    identifier = await cable.subscribe(MESH, mesh_id=mesh_id)
    assert await cable.next(timeout=WAIT) == {"identifier": identifier, "type": "confirm_subscription"}
    return (await cable.next(timeout=WAIT))["message"]


async def refused(cable: Cable, mesh_id: int) -> bool:
    identifier = await cable.subscribe(MESH, mesh_id=mesh_id)
    return await cable.next(timeout=WAIT) == {"identifier": identifier, "type": "reject_subscription"}


async def report_in_lockstep(
    worker: httpx.AsyncClient, cable: Cable, job: dict[str, Any], reports: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Post each (url, fields) report with the callback token alone; wait for the cable to deliver each change."""
    delivered = []
    for url, fields in reports:
        response = await worker.post(
            url,
            json={"job_id": job["job_id"], **fields},
            headers={"X-Callback-Token": job["callback"]["token"]},
        )
        assert response.status_code == 202 and response.json()["applied"] is True, response.text
        delivered.append((await cable.next(timeout=WAIT))["message"])
    return delivered


def cookie_header(client: httpx.AsyncClient, path: str) -> str:
    """The Cookie header a browser would send to ``path`` on the hub's host."""
    return "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar if path.startswith(c.path))


async def test_a_worker_reaches_the_job_through_the_proxy_and_its_owner_sees_every_update(
    deployment: Deployment,
) -> None:
    hub = deployment.hub
    job = await create_mesh(deployment, hub.user_url("alice"), "alice")
    # The URL comes from the server's JUPYTERHUB_* environment: the hub's public URL, the server's prefix.
    assert job["user"] == "alice"
    assert job["callback"]["url"] == hub.user_url("alice") + CALLBACK
    via_service = hub.service_url + CALLBACK

    cable = await open_cable(deployment.cable_url(hub.user_url("alice")), deployment.tokens["alice"])
    worker = httpx.AsyncClient(timeout=WAIT)  # no hub credentials, no cookies: the callback token is all it has
    try:
        assert (await watch(cable, job["id"]))["status"] == "pending"
        url = job["callback"]["url"]
        no_token = await worker.post(url, json={"job_id": job["job_id"], "progress": 5})
        assert (no_token.status_code, no_token.json()) == (401, {"error": "Invalid callback token"})
        hub_token_only = await worker.post(
            url,
            json={"job_id": job["job_id"], "progress": 5},
            headers={"Authorization": f"token {deployment.tokens['alice']}"},
        )
        assert hub_token_only.status_code == 401

        delivered = await report_in_lockstep(
            worker,
            cable,
            job,
            [
                (url, {"seq": 1, "progress": 10, "message": "loading", "status": "processing"}),
                (url, {"seq": 2, "progress": 35, "message": "meshing"}),
                (url, {"seq": 3, "progress": 60, "message": "meshing"}),
                # The service verifies the same token and writes the same Redis: alice's server delivers it too.
                (via_service, {"seq": 4, "progress": 85, "message": "smoothing"}),
                (via_service, {"seq": 5, "status": "completed", "result_url": "/results/brain.vtu"}),
            ],
        )
        assert [(p["progress"], p["status"]) for p in delivered] == [
            (10, "processing"),
            (35, "processing"),
            (60, "processing"),
            (85, "processing"),
            (100, "completed"),
        ]
        versions = [p["version"] for p in delivered]
        assert versions == sorted(set(versions))
        ended = await worker.post(
            url,
            json={"job_id": job["job_id"], "seq": 6, "progress": 99},
            headers={"X-Callback-Token": job["callback"]["token"]},
        )
        assert (ended.status_code, ended.json()["status"]) == (409, "completed")
    finally:
        cable.close()
        await worker.aclose()


async def test_the_service_is_one_stable_url_and_delivers_to_the_owners_server(deployment: Deployment) -> None:
    hub = deployment.hub
    job = await create_mesh(deployment, hub.service_url, "alice")
    assert job["user"] == "alice"
    assert job["callback"]["url"] == hub.service_url + CALLBACK

    cable = await open_cable(deployment.cable_url(hub.user_url("alice")), deployment.tokens["alice"])
    worker = httpx.AsyncClient(timeout=WAIT)
    try:
        assert (await watch(cable, job["id"]))["status"] == "pending"
        url = job["callback"]["url"]
        delivered = await report_in_lockstep(
            worker,
            cable,
            job,
            [(url, {"seq": i, "progress": 20.0 * i}) for i in range(1, 5)]
            + [(url, {"seq": 5, "status": "failed", "message": "bad input"})],
        )
        assert [p["progress"] for p in delivered[:-1]] == [20, 40, 60, 80]
        assert (delivered[-1]["status"], delivered[-1]["message"]) == ("failed", "bad input")
    finally:
        cable.close()
        await worker.aclose()
    async with deployment.api(hub.user_url("alice"), "alice") as alice:
        assert [m["id"] for m in (await alice.get(API + "meshes")).json()["meshes"]].count(job["id"]) == 1


async def test_another_user_cannot_see_watch_cancel_or_retry_the_job(deployment: Deployment) -> None:
    hub = deployment.hub
    job = await create_mesh(deployment, hub.user_url("alice"), "alice")
    mesh = f"{API}meshes/{job['id']}"
    for base in (hub.user_url("bob"), hub.service_url):
        async with deployment.api(base, "bob") as bob:
            assert (await bob.get(mesh)).status_code == 404
            assert (await bob.post(mesh + "/cancel")).status_code == 404
            assert (await bob.post(mesh + "/retry")).status_code == 404
            listed = (await bob.get(API + "meshes")).json()["meshes"]
            assert job["id"] not in [m["id"] for m in listed]
        cable = await open_cable(deployment.cable_url(base), deployment.tokens["bob"])
        try:
            assert await refused(cable, job["id"])
        finally:
            cable.close()
    # alice's own server does not let bob in at all: the hub's access scopes stop him before the hub code.
    async with deployment.api(hub.user_url("alice"), "bob") as bob:
        assert (await bob.get(mesh)).status_code == 403
    cable = await connect(deployment.cable_url(hub.user_url("alice")), deployment.tokens["bob"])
    try:
        assert await cable.next(timeout=WAIT) == {"type": "disconnect", "reason": "unauthorized", "reconnect": False}
    finally:
        cable.close()
    async with deployment.api(hub.user_url("alice"), "alice") as alice:
        assert (await alice.get(mesh)).json()["status"] == "pending"


async def test_hub_groups_may_read_and_hub_admins_may_control(deployment: Deployment) -> None:
    """carol is in the hub group ``mesh-readers`` (read_groups); ``admin`` is a hub admin (admin_users)."""
    hub = deployment.hub
    job = await create_mesh(deployment, hub.user_url("alice"), "alice")
    mesh = f"{API}meshes/{job['id']}"
    async with deployment.api(hub.service_url, "carol") as carol:
        assert (await carol.get(mesh)).json()["user"] == "alice"
        assert (await carol.post(mesh + "/cancel")).status_code == 403
    cable = await open_cable(deployment.cable_url(hub.service_url), deployment.tokens["carol"])
    try:
        assert (await watch(cable, job["id"]))["mesh_id"] == job["id"]
        async with deployment.api(hub.service_url, "admin") as admin:
            cancelled = await admin.post(mesh + "/cancel")
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert (await cable.next(timeout=WAIT))["message"]["status"] == "cancelled"
    finally:
        cable.close()


async def test_browser_sessions_use_the_hubs_cookies(deployment: Deployment) -> None:
    hub = deployment.hub
    job = await create_mesh(deployment, hub.user_url("alice"), "alice")
    mesh = f"user/alice/{API}meshes/{job['id']}"
    origin = hub.url.rstrip("/")
    alice = await hub.login("alice")
    bob = await hub.login("bob")
    try:
        # Opening a page of one's own server completes the hub's OAuth and sets that server's cookie.
        assert (await alice.get("user/alice/lab")).status_code == 200
        assert (await alice.get(mesh)).json()["user"] == "alice"
        cable = await open_cable(
            deployment.cable_url(hub.user_url("alice")),
            headers={"Cookie": cookie_header(alice, "/user/alice/meshprogress/cable"), "Origin": origin},
        )
        try:
            assert (await watch(cable, job["id"]))["status"] == "pending"
        finally:
            cable.close()

        assert (await bob.get("user/bob/lab")).status_code == 200
        assert (await bob.get("user/alice/lab")).status_code == 403  # the hub refuses bob alice's server
        assert (await bob.get(mesh)).status_code == 403
        assert (await bob.get(f"user/bob/{API}meshes/{job['id']}")).status_code == 404
        cable = await open_cable(
            deployment.cable_url(hub.user_url("bob")),
            headers={"Cookie": cookie_header(bob, "/user/bob/meshprogress/cable"), "Origin": origin},
        )
        try:
            assert await refused(cable, job["id"])
        finally:
            cable.close()
    finally:
        await alice.aclose()
        await bob.aclose()
