"""The seed's channels: ``MeshProgressChannel`` {mesh_id} and ``BatchProgressChannel`` {batch_id}.

A channel turns subscription parameters into a stream name and the current payload, after checking that the
user may read it. Unknown ids and other users' ids are rejected alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...models import batch_payload, mesh_payload
from ..hub import NotFound, ProgressHub
from ..identity import Identity
from ..streams import batch_stream, mesh_stream


class Rejected(Exception):
    """The subscription is refused (``reject_subscription``)."""


@dataclass(frozen=True)
class Resolved:
    """A subscription's stream and the payload to transmit at once."""

    stream: str
    payload: dict[str, Any]


class Channel:
    """Resolves subscription parameters to a stream and the current payload the user may read."""

    name = ""
    id_param = ""

    def __init__(self, hub: ProgressHub) -> None:
        self.hub = hub

    def stream_for(self, params: dict[str, Any]) -> str:
        """The stream the parameters name, before any read (raises Rejected for an invalid id)."""
        return self._stream(_object_id(params.get(self.id_param)))

    async def current(self, who: Identity, params: dict[str, Any]) -> Resolved:
        object_id = _object_id(params.get(self.id_param))
        try:
            payload = await self._payload(who, object_id)
        except NotFound as exc:
            raise Rejected(str(exc)) from exc
        return Resolved(stream=self._stream(object_id), payload=payload)

    async def perform(self, who: Identity, params: dict[str, Any], action: str) -> dict[str, Any] | None:
        """Run a client action; ``request_update`` answers with the current payload."""
        if action != "request_update":
            return None
        return (await self.current(who, params)).payload

    _stream: Callable[[int], str]

    async def _payload(self, who: Identity, object_id: int) -> dict[str, Any]:
        raise NotImplementedError


class MeshProgressChannel(Channel):
    name = "MeshProgressChannel"
    id_param = "mesh_id"
    _stream = staticmethod(mesh_stream)

    async def _payload(self, who: Identity, object_id: int) -> dict[str, Any]:
        return mesh_payload(await self.hub.mesh_for(who, object_id))


class BatchProgressChannel(Channel):
    name = "BatchProgressChannel"
    id_param = "batch_id"
    _stream = staticmethod(batch_stream)

    async def _payload(self, who: Identity, object_id: int) -> dict[str, Any]:
        return batch_payload(await self.hub.batch_for(who, object_id))


def channels(hub: ProgressHub) -> dict[str, Channel]:
    return {channel.name: channel for channel in (MeshProgressChannel(hub), BatchProgressChannel(hub))}


def _object_id(value: Any) -> int:
    """Ids arrive as JSON numbers from JavaScript, or as digit strings from some clients."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise Rejected("invalid id")
    return value
