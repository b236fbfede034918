"""Large batches are created without holding the server's event loop: a 10,000-source batch is written in chunks,
and the server keeps answering other requests meanwhile (the issue measured 0.8-1.7 s blocks, status p100 ~900 ms).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.server import HubServer, on_backend

pytestmark = pytest.mark.slow  # servers of its own and 10,000-member batches


API = "meshprogress/api/v1/"
SOURCES = 10_000
STATUS_P99_LIMIT = 0.100  # seconds


@pytest.fixture(scope="module", params=["embedded", "redis"])
def batch_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    config = "c.MeshProgress.max_body_bytes = 4 * 1024 * 1024\nc.MeshProgress.dispatcher = 'none'"
    server = on_backend(request, tmp_path_factory, "batches", HubServer, config).start(timeout=120)
    yield server
    server.stop()


def status_latencies(url: str, stop: threading.Event, out: list[float]) -> None:
    """Round trips of GET /api/status, one after the other, until ``stop``: in a thread of its own, so that the
    test's own loop (encoding 10,000 sources, decoding megabytes of answer) is not counted as the server's."""
    with httpx.Client(base_url=url, headers={"Authorization": "token alice-token"}, timeout=60) as probe:
        probe.get("api/status")  # connection open before the measurement
        while not stop.is_set():
            started = time.perf_counter()
            response = probe.get("api/status")
            out.append(time.perf_counter() - started)
            assert response.status_code == 200


def measured(url: str) -> tuple[threading.Event, list[float], threading.Thread]:
    stop, out = threading.Event(), []
    thread = threading.Thread(target=status_latencies, args=(url, stop, out), daemon=True)
    thread.start()
    return stop, out, thread


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


@pytest.mark.slow
@pytest.mark.timeout(900)  # two real servers and 10,000 members on a shared machine
async def test_a_10000_source_batch_does_not_block_the_loop(batch_hub: HubServer, tmp_path: Path) -> None:
    sources = [f"images/slice-{i:05d}.png" for i in range(SOURCES)]
    headers = {"Authorization": "token alice-token"}
    stop, baseline, thread = measured(batch_hub.url)  # the same probe with no batch being created
    await asyncio.sleep(2)
    stop.set()
    thread.join(60)
    async with httpx.AsyncClient(base_url=batch_hub.url, headers=headers, timeout=600) as http:
        stop, latencies, thread = measured(batch_hub.url)
        started = time.perf_counter()
        response = await http.post(f"{API}batches", json={"sources": sources, "dispatch": True})
        elapsed = time.perf_counter() - started
        stop.set()
        thread.join(60)
    assert response.status_code == 201, response.text[:300]
    assert len(response.json()["meshes"]) == SOURCES
    print(
        f"\ncreate {elapsed * 1000:.0f} ms; status n={len(latencies)} p99={p99(latencies) * 1000:.1f} ms "
        f"median={sorted(latencies)[len(latencies) // 2] * 1000:.1f} max={max(latencies) * 1000:.1f} ms"
    )
    # 100 ms, or three times the same probe's p99 with no batch (a loaded machine slows both alike).
    assert p99(latencies) < max(STATUS_P99_LIMIT, 3 * p99(baseline)), (p99(latencies), p99(baseline))
