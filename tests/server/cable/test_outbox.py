"""The cable's per-connection outbox and per-user pacing, as plain objects."""

from __future__ import annotations

from meshprogress_nb.server.cable.outbox import PING, Outbox
from meshprogress_nb.server.cable.pacing import CommandPacer


def test_outbox_keeps_one_frame_per_key_in_order_and_counts_bytes() -> None:
    outbox = Outbox()
    assert not outbox
    assert outbox.put("mesh_progress:1{id}", b"v1", now=5.0) == 2
    outbox.put(PING, b"ping-1", now=6.0)
    outbox.put("mesh_progress:1{id}", b"v2-longer", now=7.0)  # replaces v1, now after the ping
    outbox.put(PING, b"ping-2", now=8.0)
    assert outbox.size == len(b"v2-longer") + len(b"ping-2") and outbox.since == 5.0
    assert outbox.take() == [b"v2-longer", b"ping-2"]
    assert not outbox and outbox.size == 0


def test_pacer_allows_a_tenth_of_a_second_burst_then_spaces_commands() -> None:
    pacer = CommandPacer(rate=100.0)
    delays = [pacer.delay("alice", now=0.0) for _ in range(15)]
    assert delays[:10] == [0.0] * 10 and delays[10:] == [0.01, 0.02, 0.03, 0.04, 0.05]
    assert pacer.delay("bob", now=0.0) == 0.0  # users are paced apart
    assert pacer.delay("alice", now=1.0) == 0.0  # refilled
