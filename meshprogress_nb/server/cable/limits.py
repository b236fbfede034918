"""What one user may hold on the cable across all their connections, and what a subscription identifier may be.

Every frame of a subscription echoes its identifier, and each distinct identifier of a stream is encoded once per
broadcast: unbounded identifiers, subscriptions or connections would let one user multiply the server's memory and
loop time by their count. Identifiers are therefore small and canonical (only the channel and its id), one per
stream on a connection, and connections and subscriptions are counted per user.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..config import MeshProgress
from . import protocol


class UserLimits:
    """Per-user counts of open connections and subscriptions on this server."""

    def __init__(self, config: MeshProgress) -> None:
        self.config = config
        self.connections: Counter[str] = Counter()
        self.subscriptions: Counter[str] = Counter()

    def open(self, user: str) -> bool:
        """Count a new connection of ``user``; False (not counted) when they hold the most allowed."""
        if self.connections[user] >= self.config.max_connections_per_user:
            return False
        self.connections[user] += 1
        return True

    def close(self, user: str) -> None:
        _decrement(self.connections, user)

    def reserve_subscription(self, user: str) -> bool:
        """Count a subscription of ``user`` before it is set up; False when they hold the most allowed."""
        if self.subscriptions[user] >= self.config.max_subscriptions_per_user:
            return False
        self.subscriptions[user] += 1
        return True

    def release_subscription(self, user: str) -> None:
        _decrement(self.subscriptions, user)


class OversizedIdentifier(Exception):
    """An identifier over the size cap: the connection is closed rather than sent an echo of it."""


def checked_identifier(identifier: str, max_bytes: int, id_params: dict[str, str]) -> dict[str, Any]:
    """The parameters of ``identifier`` if it is small, valid Unicode and canonical: a known channel and its id only.

    ``id_params`` maps each channel's name to its id parameter. Raises OversizedIdentifier over ``max_bytes`` (a
    ``reject_subscription`` would echo it back), else ProtocolError naming what is wrong.
    """
    if len(identifier) > max_bytes:  # a character is at least one byte: no need to encode a long one
        raise OversizedIdentifier(f"identifier over {max_bytes} bytes")
    try:
        size = len(identifier.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise protocol.ProtocolError("identifier is not valid Unicode") from exc
    if size > max_bytes:
        raise OversizedIdentifier(f"identifier over {max_bytes} bytes")
    params = protocol.parse_identifier(identifier)
    id_param = id_params.get(params["channel"])
    if id_param is None:
        raise protocol.ProtocolError(f"unknown channel {params['channel'][:60]!r}")
    if set(params) != {"channel", id_param}:
        raise protocol.ProtocolError(f"identifier must hold only channel and {id_param}")
    return params


def _decrement(counter: Counter[str], user: str) -> None:
    counter[user] -= 1
    if counter[user] <= 0:
        del counter[user]
