"""The ceilings: a bare tornado POST handler and a bare tornado WebSocket broadcast, with no store in the loop.

``python bench/baselines/bare_tornado.py PORT`` serves

- ``POST /ingest``: parse the JSON callback and answer 202, nothing else (the ingest ceiling);
- ``GET /cable``: just enough ActionCable for the load generator (welcome, subscribe -> confirm + current payload);
- ``POST /broadcast``: the callback body becomes a mesh-shaped payload, encoded once and sent with
  ``write_message`` to every connection (the fan-out ceiling: what a hand-written tornado broadcast does).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from tornado import web, websocket

SUBPROTOCOL = "actioncable-v1-json"
clients: set[CableHandler] = set()
state = {"mesh_id": 1, "status": "processing", "progress": 0.0, "message": "", "version": 1}


def encode(value: dict) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class IngestHandler(web.RequestHandler):
    def check_xsrf_cookie(self) -> None:
        """No cookies, no XSRF: like the hub's callback route."""

    def post(self) -> None:
        data = json.loads(self.request.body)
        self.set_status(202)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": "accepted", "job_id": data.get("job_id"), "applied": True}))


class BroadcastHandler(IngestHandler):
    def post(self) -> None:
        data = json.loads(self.request.body)
        state.update(progress=data.get("progress", 0), message=data.get("message", ""), updated_at=time.time())
        state["version"] += 1
        frame = b'{"identifier":' + json.dumps(IDENTIFIER).encode() + b',"message":' + encode(state) + b"}"
        for client in tuple(clients):
            try:
                client.write_message(frame)
            except websocket.WebSocketClosedError:
                clients.discard(client)
        self.set_status(202)
        self.finish(b'{"status":"accepted","applied":true}')


IDENTIFIER = json.dumps({"channel": "MeshProgressChannel", "mesh_id": 1})


class CableHandler(websocket.WebSocketHandler):
    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return SUBPROTOCOL if SUBPROTOCOL in subprotocols else None

    def open(self) -> None:
        self.write_message(b'{"type":"welcome"}')

    def on_message(self, message: str | bytes) -> None:
        command = json.loads(message)
        if command.get("command") == "subscribe":
            identifier = command["identifier"]
            clients.add(self)
            self.write_message(encode({"identifier": identifier, "type": "confirm_subscription"}))
            self.write_message(
                b'{"identifier":' + json.dumps(identifier).encode() + b',"message":' + encode(state) + b"}"
            )

    def on_close(self) -> None:
        clients.discard(self)


async def main(port: int) -> None:
    app = web.Application(
        [(r"/ingest", IngestHandler), (r"/broadcast", BroadcastHandler), (r"/cable", CableHandler)],
        websocket_ping_interval=None,
    )
    app.listen(port, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
