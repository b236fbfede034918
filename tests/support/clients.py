"""Clients of a running hub: the REST API (httpx) and the ActionCable WebSocket (tornado)."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx
from tornado.websocket import WebSocketClientConnection, websocket_connect

CALLBACK = "meshprogress/api/v1/mesh_callbacks/progress"


class Api:
    """The job API as one user (by Jupyter token)."""

    def __init__(self, base_url: str, token: str | None) -> None:
        headers = {"Authorization": f"token {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=20)

    async def close(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def create_mesh(self, source: str = "images/sample.png", **fields: Any) -> dict[str, Any]:
        response = await self.http.post(
            "meshprogress/api/v1/meshes", json={"source": source, "dispatch": False, **fields}
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def create_batch(self, sources: list[str], **fields: Any) -> dict[str, Any]:
        response = await self.http.post(
            "meshprogress/api/v1/batches", json={"sources": sources, "dispatch": False, **fields}
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def dispatch(self, source: str | os.PathLike[str], **params: Any) -> dict[str, Any]:
        """A job the server's dispatcher runs: created with these mesher parameters."""
        response = await self.http.post(
            "meshprogress/api/v1/meshes", json={"source": os.fspath(source), "params": params}
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def wait_for(self, mesh_id: int, predicate: Any, timeout: float = 120) -> dict[str, Any]:
        """The job's state once ``predicate(state)`` holds, polled until the deadline."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            state = (await self.http.get(f"meshprogress/api/v1/meshes/{mesh_id}")).json()
            if predicate(state):
                return state
            assert asyncio.get_running_loop().time() < deadline, (state.get("status"), state.get("message"))
            await asyncio.sleep(0.2)

    async def callback(self, callback: dict[str, str], job_id: str, **fields: Any) -> httpx.Response:
        return await self.http.post(
            callback["url"], json={"job_id": job_id, **fields}, headers={"X-Callback-Token": callback["token"]}
        )


class Cable:
    """A minimal ActionCable client: enough to subscribe, receive and perform, frame by frame."""

    def __init__(self, connection: WebSocketClientConnection) -> None:
        self.connection = connection
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(
        cls, ws_url: str, token: str | None, origin: str | None = None, cookie_user: str | None = None
    ) -> Cable:
        from tornado.httpclient import HTTPRequest

        url = ws_url + (f"?token={token}" if token else "")
        headers = {"Origin": origin} if origin else {}
        if cookie_user:
            headers["Cookie"] = f"meshprogress-test-user={cookie_user}"
        request = HTTPRequest(url, headers=headers)
        connection = await websocket_connect(request, subprotocols=["actioncable-v1-json", "actioncable-unsupported"])
        return cls(connection)

    async def _read(self) -> None:
        while True:
            message = await self.connection.read_message()
            if message is None:
                await self.frames.put({"type": "_closed"})
                return
            await self.frames.put(json.loads(message))

    async def send(self, frame: dict[str, Any]) -> None:
        await self.connection.write_message(json.dumps(frame))

    async def next(self, timeout: float = 10.0, skip_pings: bool = True) -> dict[str, Any]:
        while True:
            frame = await asyncio.wait_for(self.frames.get(), timeout)
            if skip_pings and frame.get("type") == "ping":
                continue
            return frame

    async def subscribe(self, channel: str, **params: Any) -> str:
        identifier = json.dumps({"channel": channel, **params})
        await self.send({"command": "subscribe", "identifier": identifier})
        return identifier

    async def perform(self, identifier: str, action: str) -> None:
        await self.send({"command": "message", "identifier": identifier, "data": json.dumps({"action": action})})

    async def messages_until(self, predicate, timeout: float = 15.0) -> list[dict[str, Any]]:  # noqa: ANN001
        """Payloads received until one satisfies ``predicate`` (inclusive)."""
        received = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.next(timeout=max(0.01, deadline - loop.time()))
            if "message" in frame and frame.get("type") is None:
                received.append(frame["message"])
                if predicate(frame["message"]):
                    return received

    def close(self) -> None:
        self._reader.cancel()
        self.connection.close()


def worker_report(record: dict[str, Any], **fields: Any) -> None:
    """A worker's callback for the mesh ``record`` (as created or retried: it holds the callback token)."""
    callback = record["callback"]
    response = httpx.post(
        callback["url"], json={"job_id": record["job_id"], **fields}, headers={"X-Callback-Token": callback["token"]}
    )
    assert response.status_code == 202, response.text
