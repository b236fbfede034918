"""ActionCable frames: commands parse or raise ProtocolError; server frames have the wire shape."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshprogress_nb.server.cable import protocol
from meshprogress_nb.server.cable.protocol import ProtocolError

IDENT = json.dumps({"channel": "MeshProgressChannel", "mesh_id": 1})


def test_subscribe_and_message_commands_parse() -> None:
    assert protocol.parse_command(json.dumps({"command": "subscribe", "identifier": IDENT})).identifier == IDENT
    command = protocol.parse_command(
        json.dumps({"command": "message", "identifier": IDENT, "data": '{"action":"request_update"}'})
    )
    assert protocol.parse_data(command.data or "") == {"action": "request_update"}


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '{"command": "explode", "identifier": "{}"}',
        '{"command": "subscribe"}',
        '{"command": "subscribe", "identifier": 5}',
        '{"command": "message", "identifier": "{}"}',
        "[" * 50_000,
    ],
)
def test_bad_commands_raise(raw: str) -> None:
    with pytest.raises(ProtocolError):
        protocol.parse_command(raw)


@pytest.mark.parametrize("identifier", ["not json", "[]", '{"mesh_id": 1}', '{"channel": 5}'])
def test_bad_identifiers_raise(identifier: str) -> None:
    with pytest.raises(ProtocolError):
        protocol.parse_identifier(identifier)


def test_server_frames_have_actioncable_shapes() -> None:
    assert json.loads(protocol.welcome()) == {"type": "welcome"}
    assert json.loads(protocol.ping(12.7)) == {"type": "ping", "message": 12}
    assert json.loads(protocol.confirm(IDENT)) == {"identifier": IDENT, "type": "confirm_subscription"}
    assert json.loads(protocol.reject(IDENT)) == {"identifier": IDENT, "type": "reject_subscription"}
    assert json.loads(protocol.disconnect("unauthorized", False)) == {
        "type": "disconnect",
        "reason": "unauthorized",
        "reconnect": False,
    }


@given(st.text(max_size=300) | st.binary(max_size=300))
def test_fuzzed_frames_parse_or_raise_protocol_error(raw: str | bytes) -> None:
    try:
        command = protocol.parse_command(raw)
    except ProtocolError:
        return
    assert command.command in protocol.COMMANDS
