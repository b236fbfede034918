"""Coalescing fan-out, without a server: one frame per interval with the latest state, status changes at once."""

from __future__ import annotations

import json
from pathlib import Path

from meshprogress_nb.server.backends.embedded import EmbeddedBackend
from meshprogress_nb.server.fanout import FanOut, Subscription
from support.clock import ManualClock


class RecordingSink:
    """Stands in for a WebSocket connection: records the frames it is sent."""

    def __init__(self) -> None:
        self.frames: list[dict] = []

    def send_frame(self, key: str, frame: bytes) -> None:
        self.frames.append(json.loads(frame))


def payload(version: int, status: str = "processing", progress: float = 0.0) -> bytes:
    return json.dumps({"mesh_id": 1, "version": version, "status": status, "progress": progress}).encode()


async def make(tmp_path: Path, interval: float, clock: ManualClock | None = None) -> tuple[EmbeddedBackend, FanOut]:
    backend = EmbeddedBackend(str(tmp_path / "state.sqlite3"))
    await backend.start()

    async def load(stream: str) -> bytes | None:
        return None

    return backend, FanOut(backend, interval, load, clock or ManualClock())


async def test_updates_within_an_interval_coalesce_to_the_latest(tmp_path: Path) -> None:
    clock = ManualClock()
    backend, fanout = await make(tmp_path, interval=0.2, clock=clock)
    sink = RecordingSink()
    subscription = Subscription(sink, '{"channel":"MeshProgressChannel","mesh_id":1}')
    await fanout.add("mesh_progress:1", subscription)
    subscription.activate(1)
    await backend.publish("mesh_progress:1", payload(2, progress=1))  # first: sent at once (status change)
    for version in range(3, 50):
        await backend.publish("mesh_progress:1", payload(version, progress=version))
    assert [f["message"]["version"] for f in sink.frames] == [2]
    await clock.advance(0.19)
    assert [f["message"]["version"] for f in sink.frames] == [2], "nothing before the interval ends"
    await clock.advance(0.01)
    assert [f["message"]["version"] for f in sink.frames] == [2, 49]
    await backend.publish("mesh_progress:1", payload(50, status="completed", progress=100))
    assert sink.frames[-1]["message"]["status"] == "completed", "a status change waits for no interval"
    await backend.close()


async def test_old_versions_and_inactive_subscriptions_get_nothing(tmp_path: Path) -> None:
    backend, fanout = await make(tmp_path, interval=0.0)
    early, late = RecordingSink(), RecordingSink()
    first, second = Subscription(early, "a"), Subscription(late, "b")
    await fanout.add("mesh_progress:1", first)
    await fanout.add("mesh_progress:1", second)
    first.activate(5)  # its snapshot was version 5
    await backend.publish("mesh_progress:1", payload(4))
    await backend.publish("mesh_progress:1", payload(6))
    assert [f["message"]["version"] for f in early.frames] == [6]
    assert late.frames == [], "not confirmed yet: the snapshot comes first"
    await backend.publish("mesh_progress:1", payload(6))
    assert len(early.frames) == 1, "the same version twice is one frame"
    await fanout.remove("mesh_progress:1", first)
    await fanout.remove("mesh_progress:1", second)
    assert "mesh_progress:1" not in fanout.streams
    await backend.close()


async def test_identifiers_are_kept_per_subscription(tmp_path: Path) -> None:
    backend, fanout = await make(tmp_path, interval=0.0)
    sink = RecordingSink()
    spaced, compact = Subscription(sink, '{"channel": "X", "mesh_id": 1}'), Subscription(sink, '{"mesh_id":1}')
    for subscription in (spaced, compact):
        await fanout.add("mesh_progress:1", subscription)
        subscription.activate(0)
    await backend.publish("mesh_progress:1", payload(1))
    assert sorted(f["identifier"] for f in sink.frames) == sorted([spaced.identifier, compact.identifier])
    await backend.close()
