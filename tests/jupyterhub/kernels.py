"""Run code in a kernel of a user's server, as that user's notebook would: Jupyter's REST API and kernel WebSocket."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timezone

import httpx
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


async def run_in_kernel(server_url: str, token: str, code: str, timeout: float = 60.0) -> str:
    """Start a kernel in the server at ``server_url``, run ``code``, return its stdout; the kernel is shut down."""
    auth = {"Authorization": f"token {token}"}
    async with httpx.AsyncClient(base_url=server_url, headers=auth, timeout=timeout) as api:
        started = await api.post("api/kernels", json={"name": "python3"})
        assert started.status_code == 201, started.text
        kernel_id = started.json()["id"]
        try:
            url = server_url.replace("http://", "ws://", 1) + f"api/kernels/{kernel_id}/channels"
            channels = await websocket_connect(HTTPRequest(url, headers=auth, connect_timeout=timeout))
            try:
                return await asyncio.wait_for(_execute(channels, code), timeout)
            finally:
                channels.close()
        finally:
            await api.delete(f"api/kernels/{kernel_id}")


async def _execute(channels: object, code: str) -> str:
    msg_id = uuid.uuid4().hex
    header = {
        "msg_id": msg_id,
        "msg_type": "execute_request",
        "username": "test",
        "session": uuid.uuid4().hex,
        "date": datetime.now(timezone.utc).isoformat(),
        "version": "5.3",
    }
    content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False}
    request = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
    await channels.write_message(json.dumps(request))  # type: ignore[attr-defined]
    output: list[str] = []
    while True:
        raw = await channels.read_message()  # type: ignore[attr-defined]
        if raw is None:
            raise RuntimeError("the kernel's channels closed")
        message = json.loads(raw)
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = message["msg_type"]
        if kind == "stream":
            output.append(message["content"]["text"])
        elif kind == "error":
            raise RuntimeError("\n".join(message["content"]["traceback"]))
        elif kind == "status" and message["content"]["execution_state"] == "idle":
            return "".join(output)
