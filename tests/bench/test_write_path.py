"""The fan-out write path the benchmark depends on: one WebSocket frame per broadcast, pings spread in slices."""

from __future__ import annotations

import struct

import pytest

from meshprogress_nb.server.cable.connection import wire_frame
from meshprogress_nb.server.cable.server import PING_SLICES, CableServer
from meshprogress_nb.server.config import MeshProgress


@pytest.mark.parametrize("size", [0, 1, 125, 126, 1000, 65535, 65536, 70000])
def test_wire_frame_is_an_unmasked_final_text_frame(size: int) -> None:
    payload = b"x" * size
    frame = wire_frame(payload)
    assert frame[0] == 0x81  # FIN + text
    if size < 126:
        assert frame[1] == size and frame[2:] == payload
    elif size <= 0xFFFF:
        assert frame[1] == 126 and struct.unpack("!H", frame[2:4])[0] == size and frame[4:] == payload
    else:
        assert frame[1] == 127 and struct.unpack("!Q", frame[2:10])[0] == size and frame[10:] == payload


def test_wire_frame_is_built_once_per_broadcast_frame() -> None:
    first = b'{"identifier":"x","message":{"version":2}}'
    assert wire_frame(first) is wire_frame(first)
    second = b'{"identifier":"x","message":{"version":3}}'
    assert wire_frame(second).endswith(second)


class FakeConnection:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def send_frame(self, key: object, frame: bytes) -> None:
        self.frames.append(frame)


def test_each_connection_is_pinged_once_per_interval() -> None:
    server = CableServer(hub=None, fanout=None, config=MeshProgress(ping_interval=3.0))  # type: ignore[arg-type]
    connections = [FakeConnection() for _ in range(1000)]
    server.connections.update(connections)  # type: ignore[arg-type]
    for _ in range(PING_SLICES):
        server._ping()
    assert all(len(c.frames) == 1 for c in connections)
    assert all(c.frames[0].startswith(b'{"type":"ping"') for c in connections)
    server._ping()
    assert sum(len(c.frames) for c in connections) < 1000 + 1000 / PING_SLICES * 2  # one slice, not everyone
