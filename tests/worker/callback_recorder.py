"""A recording stand-in for the hub's callback route, for protocol tests of the worker side.

It speaks only the worker callback of docs/api.md: it records every POST and answers 202, or what a test scripts
(401, 409, 503 with Retry-After, ...), optionally after a delay; it can go down and come back on the same port.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROUTE = "/meshprogress/api/v1/mesh_callbacks/progress"


@dataclass
class Recorded:
    at: float  # time.monotonic() when the request arrived
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Answer:
    status: int = 202
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    delay: float = 0.0


class RecordingHub:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: deque[Answer] = deque()
        self.default = Answer()
        self.lock = threading.Condition()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{ROUTE}"

    def start(self) -> None:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw)
                with hub.lock:
                    hub.requests.append(Recorded(time.monotonic(), dict(self.headers), body))
                    answer = hub.script.popleft() if hub.script else hub.default
                    hub.lock.notify_all()
                time.sleep(answer.delay)
                payload = answer.body
                if payload is None:
                    accepted = {"status": "accepted", "job_id": body.get("job_id"), "applied": True}
                    payload = accepted if answer.status == 202 else {"error": f"HTTP {answer.status}"}
                data = json.dumps(payload).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (answer.headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        """Go down: connections are refused until start()."""
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        self.server = None

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests with ``answers``, in order, then with the default."""
        with self.lock:
            self.script.extend(answers)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.body for r in self.requests]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Recorded]:
        """Block until at least ``count`` requests have arrived."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{len(self.requests)} requests after {timeout} s, expected {count}"
                self.lock.wait(remaining)
            return list(self.requests)
