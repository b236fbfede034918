"""ActionCable's JSON wire protocol (subprotocol ``actioncable-v1-json``), as pure functions.

Server frames: ``welcome``, ``ping``, ``confirm_subscription``, ``reject_subscription``, ``disconnect`` and
``{"identifier", "message"}``; client commands: ``subscribe``, ``unsubscribe``, ``message``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SUBPROTOCOL = "actioncable-v1-json"
COMMANDS = frozenset({"subscribe", "unsubscribe", "message"})


class ProtocolError(Exception):
    """A client frame that does not follow the protocol."""


@dataclass(frozen=True)
class Command:
    command: str
    identifier: str
    data: str | None = None


def parse_command(raw: str | bytes) -> Command:
    """Decode one client frame; raises ProtocolError for anything but a well-formed command."""
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("frame is not JSON") from exc
    if not isinstance(frame, dict):
        raise ProtocolError("frame is not a JSON object")
    command, identifier, data = frame.get("command"), frame.get("identifier"), frame.get("data")
    if command not in COMMANDS:
        raise ProtocolError(f"unknown command {str(command)[:40]!r}")
    if not isinstance(identifier, str):
        raise ProtocolError("identifier must be a string")
    if command == "message" and not isinstance(data, str):
        raise ProtocolError("data must be a string")
    return Command(command=command, identifier=identifier, data=data)


def parse_identifier(identifier: str) -> dict[str, Any]:
    """The channel parameters a subscription identifier encodes: ``{"channel": ..., ...}``."""
    try:
        params = json.loads(identifier)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("identifier is not JSON") from exc
    if not isinstance(params, dict) or not isinstance(params.get("channel"), str):
        raise ProtocolError("identifier must name a channel")
    return params


def parse_data(data: str) -> dict[str, Any]:
    """The ``data`` of a ``message`` command: ``{"action": ..., ...}``."""
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("data is not JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("action"), str):
        raise ProtocolError("data must name an action")
    return payload


def _frame(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def welcome() -> bytes:
    return b'{"type":"welcome"}'


def ping(now: float) -> bytes:
    return _frame({"type": "ping", "message": int(now)})


def confirm(identifier: str) -> bytes:
    return _frame({"identifier": identifier, "type": "confirm_subscription"})


def reject(identifier: str) -> bytes:
    return _frame({"identifier": identifier, "type": "reject_subscription"})


def disconnect(reason: str, reconnect: bool) -> bytes:
    return _frame({"type": "disconnect", "reason": reason, "reconnect": reconnect})
