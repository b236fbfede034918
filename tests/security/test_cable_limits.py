"""Cable identifiers are small and canonical; connections and subscriptions are capped per user across connections."""

from __future__ import annotations

import asyncio
import json

from support.attack import identifier
from support.clients import Api, Cable


async def connect(url: str) -> Cable:
    """A welcomed connection of alice's, once the server has counted out the ones she closed."""
    for _ in range(100):
        cable = await Cable.connect(url, "alice-token")
        if await cable.next() == {"type": "welcome"}:
            return cable
        cable.close()
        await asyncio.sleep(0.05)
    raise AssertionError("no room for a connection of alice's")


async def answer(cable: Cable, ident: str) -> str:
    """Subscribe with ``ident``; the type of the server's answer (confirm or reject)."""
    await cable.send({"command": "subscribe", "identifier": ident})
    while True:
        frame = await cable.next()
        if frame.get("identifier") == ident and "type" in frame:
            return frame["type"]


async def test_identifiers_connections_and_subscriptions_are_capped(hub_factory) -> None:  # noqa: ANN001
    server = hub_factory(max_connections_per_user=3, max_subscriptions_per_user=5)
    alice = Api(server.url, "alice-token")
    cables: list[Cable] = []
    try:
        batch = await alice.create_batch([f"m{i}.png" for i in range(8)])
        ids = [m["id"] for m in batch["meshes"]]
        # Identifiers: at most 1 KiB (a longer one closes the connection: a rejection would echo it), only the
        # channel and its id, one per stream on a connection.
        oversized = await connect(server.ws_url)
        await oversized.send({"command": "subscribe", "identifier": identifier(ids[0], 1025)})
        assert (await oversized.next())["type"] == "_closed"
        assert oversized.connection.close_code == 1008
        assert oversized.connection.close_reason == "identifier over 1024 bytes"
        oversized.close()
        cables = [await connect(server.ws_url) for _ in range(3)]
        first, second, third = cables
        assert await answer(first, identifier(ids[0], 1024)) == "confirm_subscription"
        assert await answer(first, identifier(ids[0], 1000)) == "reject_subscription"  # same stream, respelled
        extra = json.dumps({"channel": "MeshProgressChannel", "mesh_id": ids[1], "pad": "x"})
        assert await answer(first, extra) == "reject_subscription"

        # Subscriptions: 5 for alice across her connections.
        assert await answer(second, identifier(ids[0], 100)) == "confirm_subscription"  # another connection may
        for mesh_id in ids[1:4]:
            assert await answer(third, identifier(mesh_id, 100)) == "confirm_subscription"
        assert await answer(third, identifier(ids[4], 100)) == "reject_subscription"
        await third.send({"command": "unsubscribe", "identifier": identifier(ids[1], 100)})
        assert await answer(third, identifier(ids[4], 100)) == "confirm_subscription"

        # Connections: 3 for alice; a fourth is told why and closed; closing one makes room again.
        fourth = await Cable.connect(server.ws_url, "alice-token")
        assert await fourth.next() == {"type": "disconnect", "reason": "too_many_connections", "reconnect": False}
        assert (await fourth.next())["type"] == "_closed"
        assert fourth.connection.close_code == 1008
        fourth.close()
        bob = await Cable.connect(server.ws_url, "bob-token")  # other users are not counted against alice
        assert await bob.next() == {"type": "welcome"}
        bob.close()
        first.close()
        cables.remove(first)
        cables.append(await connect(server.ws_url))
    finally:
        for cable in cables:
            cable.close()
        await alice.close()
