"""The extension's lifecycle on a real server: clients told to reconnect on stop, everything closed in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.clients import Api, Cable
from support.server import HubServer

pytestmark = pytest.mark.slow  # servers stopped by SIGTERM and restarted


async def test_on_sigterm_every_cable_client_is_told_to_reconnect_and_closed_normally(tmp_path: Path) -> None:
    server = HubServer(tmp_path).start()
    api = Api(server.url, "alice-token")
    cables = [await Cable.connect(server.ws_url, "alice-token") for _ in range(3)]
    try:
        mesh = await api.create_mesh()
        for cable in cables:
            assert (await cable.next())["type"] == "welcome"
            await cable.subscribe("MeshProgressChannel", mesh_id=mesh["id"])
            assert (await cable.next())["type"] == "confirm_subscription"
            await cable.next()  # the snapshot
        server.stop()
        for cable in cables:
            frame = await cable.next()
            assert frame == {"type": "disconnect", "reason": "server_restart", "reconnect": True}
            assert (await cable.next())["type"] == "_closed"
            assert cable.connection.close_code == 1000
    finally:
        for cable in cables:
            cable.close()
        await api.close()
        server.stop()


async def test_unauthorized_clients_get_a_normal_close(tmp_path: Path) -> None:
    server = HubServer(tmp_path).start()
    cable = await Cable.connect(server.ws_url, None)
    try:
        assert await cable.next() == {"type": "disconnect", "reason": "unauthorized", "reconnect": False}
        assert (await cable.next())["type"] == "_closed"
        assert cable.connection.close_code == 1000
    finally:
        cable.close()
        server.stop()


async def test_reports_merged_before_a_stop_are_written_before_the_store_closes(tmp_path: Path) -> None:
    """Workers were told 202 for a merged report: a clean stop writes it, so a restart finds it."""
    server = HubServer(tmp_path, extra="c.MeshProgress.callback_rate_limit = 0.05").start()  # one write per 20 s
    api = Api(server.url, "alice-token")
    try:
        mesh = await api.create_mesh()
        for seq, progress in enumerate([10, 40, 70], start=1):
            response = await api.callback(mesh["callback"], mesh["job_id"], progress=progress, seq=seq)
            assert response.status_code == 202
        assert response.json()["applied"] is True and response.json().get("status") == "accepted"
        server.stop()
        server.start()
        stored = (await api.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()
        assert stored["progress"] == 70
    finally:
        await api.close()
        server.stop()
