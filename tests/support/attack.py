"""A hub to attack, and what an attack is measured by: the server's RSS, ``GET /api/status`` and another user's
callbacks (their latency, and that none of the reports they had accepted is lost)."""

from __future__ import annotations

import multiprocessing
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from support.server import HubServer

MiB = 1024 * 1024
API = "meshprogress/api/v1/"


def start_hub(root: Path, **settings: object) -> HubServer:
    """An embedded-mode hub with ``settings`` as ``c.MeshProgress`` traits."""
    extra = "\n".join(f"c.MeshProgress.{name} = {value!r}" for name, value in settings.items())
    return HubServer(root, extra="c.MeshProgress.dispatcher = 'none'\n" + extra).start(timeout=90)


def rss(server: HubServer) -> int:
    return psutil.Process(server.process.pid).memory_info().rss  # type: ignore[union-attr]


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98] if len(samples) > 1 else samples[0]


class Bystander:
    """Another user going about their business during an attack, in a process of its own (so the attacker's event
    loop and the GIL cannot delay it): ``GET /api/status`` and bob's worker reporting progress on bob's job, each
    timed, and the server's RSS sampled alongside.

    ``verify()`` then checks that bob's job ends on the last report the hub accepted (none lost)."""

    def __init__(self, server: HubServer, period: float = 0.005, baseline: float = 3.0) -> None:
        self.server = server
        self.period = period
        self.baseline = baseline
        self.status_ms: list[float] = []
        self.callback_ms: list[float] = []
        self.baseline_status_ms: list[float] = []
        self.baseline_callback_ms: list[float] = []
        self.peak_rss = 0
        self.last_accepted: tuple[float, str] | None = None
        self.samples: list[tuple[float, float, float]] = []
        with httpx.Client(base_url=server.url, headers={"Authorization": "token bob-token"}, timeout=10) as bob:
            created = bob.post(API + "meshes", json={"source": "bob.png", "dispatch": False})
            assert created.status_code == 201, created.text
        self.mesh = created.json()
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._ready = context.Event()
        self._results, child_end = context.Pipe(duplex=False)
        pid = server.process.pid  # type: ignore[union-attr]
        self._process = context.Process(
            target=_bystand, args=(server.url, pid, self.mesh, period, self._stop, self._ready, child_end), daemon=True
        )

    def __enter__(self) -> Bystander:
        """Returns once the same requests have been timed for ``baseline`` seconds with no attack."""
        self._process.start()
        assert self._ready.wait(60), "the bystander did not start"
        time.sleep(self.baseline)
        self._attack_started = time.time()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._results.poll(60):
            results = self._results.recv()
            self.samples = results["samples"]
            for stamp, status_ms, callback_ms in results["samples"]:
                during = stamp >= self._attack_started
                (self.status_ms if during else self.baseline_status_ms).append(status_ms)
                (self.callback_ms if during else self.baseline_callback_ms).append(callback_ms)
            self.peak_rss, self.last_accepted = results["peak_rss"], results["last_accepted"]
        self._process.join(30)

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
        assert (mesh["progress"], mesh["message"]) == self.last_accepted, ("an accepted report was lost", mesh)
        figures = {
            "status_p99_ms": p99(self.status_ms),
            "callback_p99_ms": p99(self.callback_ms),
            "baseline_status_p99_ms": p99(self.baseline_status_ms),
            "baseline_callback_p99_ms": p99(self.baseline_callback_ms),
            "samples": len(self.status_ms),
        }
        # On a machine shared with other work the same requests, timed in the same run without the attack, may take
        # a good part of the limit already: the limit is then scaled to them (3 x their p99).
        status_limit = max(limit_ms, 3 * figures["baseline_status_p99_ms"])
        callback_limit = max(limit_ms, 3 * figures["baseline_callback_p99_ms"])
        assert figures["status_p99_ms"] < status_limit and figures["callback_p99_ms"] < callback_limit, figures
        return figures


def latency(figures: dict[str, float]) -> str:
    """The bystander's figures, for a test's report line."""
    return (
        f"status p99 {figures['status_p99_ms']:.0f} ms, bob's callback p99 {figures['callback_p99_ms']:.0f} ms "
        f"(without the attack {figures['baseline_status_p99_ms']:.0f} / {figures['baseline_callback_p99_ms']:.0f} ms; "
        f"{figures['samples']:.0f} samples)"
    )


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


def _bystand(url: str, pid: int, mesh: dict, period: float, stop: Any, ready: Any, results: Any) -> None:
    """The bystander's process: time bob's requests until ``stop``, then send the figures through ``results``."""
    server = psutil.Process(pid)
    callback = mesh["callback"]
    samples: list[tuple[float, float, float]] = []
    peak_rss, last_accepted, step = 0, None, 0
    with (
        httpx.Client(base_url=url, headers={"Authorization": "token bob-token"}, timeout=10) as api,
        httpx.Client(timeout=10) as worker,
    ):
        while not stop.is_set():
            stamp, started = time.time(), time.perf_counter()
            assert api.get("api/status").status_code == 200
            status_ms = (time.perf_counter() - started) * 1000
            step += 1
            progress, message = round(min(99.0, step * 0.05), 3), f"bob step {step}"
            started = time.perf_counter()
            answer = worker.post(
                callback["url"],
                json={"job_id": mesh["job_id"], "progress": progress, "message": message, "seq": step},
                headers={"X-Callback-Token": callback["token"]},
            )
            samples.append((stamp, status_ms, (time.perf_counter() - started) * 1000))
            if answer.status_code == 202:
                last_accepted = (progress, message)
            peak_rss = max(peak_rss, server.memory_info().rss)
            ready.set()
            stop.wait(period)
    results.send({"samples": samples, "peak_rss": peak_rss, "last_accepted": last_accepted})
