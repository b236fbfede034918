"""An ActionCable-speaking consumer: the same frames the hub sends, one group per watched mesh."""

from __future__ import annotations

import json

from channels.generic.websocket import AsyncWebsocketConsumer

from . import store

SUBPROTOCOL = "actioncable-v1-json"


class CableConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.prefixes: dict[str, str] = {}
        await self.accept(subprotocol=SUBPROTOCOL)
        await self.send(text_data='{"type":"welcome"}')

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        command = json.loads(text_data or bytes_data or b"{}")
        if command.get("command") != "subscribe":
            return
        identifier = command["identifier"]
        mesh_id = int(json.loads(identifier)["mesh_id"])
        current = await store.current(mesh_id)
        if current is None:
            await self.send(
                json.dumps({"identifier": identifier, "type": "reject_subscription"}, separators=(",", ":"))
            )
            return
        group = f"mesh_{mesh_id}"
        # Frames are the payload (encoded once by the view) inside a prefix encoded once per subscription.
        self.prefixes[group] = '{"identifier":' + json.dumps(identifier) + ',"message":'
        await self.channel_layer.group_add(group, self.channel_name)
        await self.send(json.dumps({"identifier": identifier, "type": "confirm_subscription"}, separators=(",", ":")))
        await self.send(self.prefixes[group] + (await store.current(mesh_id) or current) + "}")

    async def mesh_progress(self, event: dict) -> None:
        await self.send(text_data=self.prefixes[event["group"]] + event["payload"] + "}")

    async def disconnect(self, code: int) -> None:
        for group in self.prefixes:
            await self.channel_layer.group_discard(group, self.channel_name)
