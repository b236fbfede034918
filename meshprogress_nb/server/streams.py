"""The one place that names the hub's streams, parses their names and encodes what is published on them.

A stream carries one job's payloads: ``mesh_progress:{id}`` for a mesh, ``batch_progress:{id}`` for a batch.
The backends publish on them, the fan-out subscribes to them, and the cable's channels map subscriptions onto
them.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson

Kind = Literal["mesh", "batch"]

_PREFIXES: dict[str, Kind] = {"mesh_progress": "mesh", "batch_progress": "batch"}


def mesh_stream(mesh_id: int) -> str:
    return f"mesh_progress:{mesh_id}"


def batch_stream(batch_id: int) -> str:
    return f"batch_progress:{batch_id}"


def parse(stream: str) -> tuple[Kind, int]:
    """``("mesh", 12)`` for ``mesh_progress:12``; ValueError for a name this module did not make."""
    prefix, _, raw_id = stream.partition(":")
    kind = _PREFIXES.get(prefix)
    if kind is None or not raw_id.isdigit():
        raise ValueError(f"not a meshprogress stream: {stream[:80]!r}")
    return kind, int(raw_id)


def encode(payload: dict[str, Any]) -> bytes:
    """The one JSON encoding of a payload, shared by the broker and the cable frames.

    orjson, since every accepted callback encodes one; payloads hold only the model's own values (no user
    ``params``), all of which orjson encodes as ``json`` would.
    """
    return orjson.dumps(payload)
