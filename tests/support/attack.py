"""A hub to attack, and what an attack is measured by: the server's RSS, ``GET /api/status`` and another user's
callbacks (their latency, and that none of the reports they had accepted is lost)."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import httpx
import psutil

from support.server import HubServer

MiB = 1024 * 1024
API = "meshprogress/api/v1/"


def start_hub(root: Path, **settings: object) -> HubServer:
    """An embedded-mode hub with ``settings`` as ``c.MeshProgress`` traits."""
    extra = "\n".join(f"c.MeshProgress.{name} = {value!r}" for name, value in settings.items())
    return HubServer(root, extra="c.MeshProgress.dispatcher = 'none'\n" + extra).start()


def rss(server: HubServer) -> int:
    return psutil.Process(server.process.pid).memory_info().rss  # type: ignore[union-attr]


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98] if len(samples) > 1 else samples[0]


class Bystander:
    """Another user going about their business during an attack, in a thread of its own (so the attacker's event
    loop cannot delay it): ``GET /api/status`` and bob's worker reporting progress on bob's job, each timed.

    ``verify()`` then checks that bob's job ends on the last report the hub accepted (none lost)."""

    def __init__(self, server: HubServer, period: float = 0.02) -> None:
        self.server = server
        self.period = period
        self.status_ms: list[float] = []
        self.callback_ms: list[float] = []
        self.peak_rss = 0
        self.last_accepted: tuple[float, str] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        with httpx.Client(base_url=server.url, headers={"Authorization": "token bob-token"}, timeout=10) as bob:
            created = bob.post(API + "meshes", json={"source": "bob.png", "dispatch": False})
            assert created.status_code == 201, created.text
        self.mesh = created.json()

    def __enter__(self) -> Bystander:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        callback = self.mesh["callback"]
        step = 0
        with (
            httpx.Client(base_url=self.server.url, headers={"Authorization": "token bob-token"}, timeout=10) as api,
            httpx.Client(timeout=10) as worker,
        ):
            while not self._stop.is_set():
                started = time.perf_counter()
                assert api.get("api/status").status_code == 200
                self.status_ms.append((time.perf_counter() - started) * 1000)
                step += 1
                progress, message = min(99.0, step * 0.05), f"bob step {step}"
                started = time.perf_counter()
                answer = worker.post(
                    callback["url"],
                    json={"job_id": self.mesh["job_id"], "progress": progress, "message": message, "seq": step},
                    headers={"X-Callback-Token": callback["token"]},
                )
                self.callback_ms.append((time.perf_counter() - started) * 1000)
                if answer.status_code == 202:
                    self.last_accepted = (progress, message)
                self.peak_rss = max(self.peak_rss, rss(self.server))
                self._stop.wait(self.period)

    def verify(self, limit_ms: float = 100.0) -> dict[str, float]:
        """p99s under ``limit_ms``, and bob's job on his last accepted report; returns the figures."""
        assert self.last_accepted is not None, "none of bob's reports was accepted"
        deadline = time.monotonic() + 10
        with httpx.Client(base_url=self.server.url, headers={"Authorization": "token bob-token"}) as api:
            while True:
                mesh = api.get(f"{API}meshes/{self.mesh['id']}").json()
                if (mesh["progress"], mesh["message"]) == self.last_accepted or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        assert (mesh["progress"], mesh["message"]) == self.last_accepted, "an accepted report was lost"
        figures = {
            "status_p99_ms": p99(self.status_ms),
            "callback_p99_ms": p99(self.callback_ms),
            "samples": len(self.status_ms),
        }
        assert figures["status_p99_ms"] < limit_ms and figures["callback_p99_ms"] < limit_ms, figures
        return figures


def settle_rss(server: HubServer, ceiling: int, timeout: float = 15.0) -> int:
    """The server's RSS once it is at most ``ceiling`` (memory is given back lazily), or its last value."""
    deadline = time.monotonic() + timeout
    while (current := rss(server)) > ceiling and time.monotonic() < deadline:
        time.sleep(0.2)
    return current


def identifier(mesh_id: int, size: int) -> str:
    """A canonical cable identifier of ``mesh_id``, padded with JSON whitespace to ``size`` bytes."""
    head, tail = '{"channel": "MeshProgressChannel",', f'"mesh_id": {mesh_id}}}'
    return head + " " * (size - len(head) - len(tail)) + tail
