"""Clients of a running test hub: users' REST and cable sessions, and a worker's callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from hub_harness import JupyterHubProcess
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from support.clients import Cable

MESH = "MeshProgressChannel"
API = "meshprogress/api/v1/"
WAIT = 30.0  # seconds: generous, the machine is shared


@dataclass
class Deployment:
    hub: JupyterHubProcess
    tokens: dict[str, str]
    redis_port: int
    redis_password: str

    def api(self, base: str, user: str | None, token: str | None = None) -> httpx.AsyncClient:
        token = token or (self.tokens[user] if user else None)
        headers = {"Authorization": f"token {token}"} if token else {}
        return httpx.AsyncClient(base_url=base, headers=headers, timeout=WAIT)

    def cable_url(self, base: str) -> str:
        return base.replace("http://", "ws://", 1) + "meshprogress/cable"


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
