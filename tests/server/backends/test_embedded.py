"""Embedded mode: no set-up, and a restart (even a SIGKILL) loses no job."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.clients import Api, Cable
from support.server import HubServer

pytestmark = pytest.mark.slow  # a server restarted on its SQLite file


async def test_state_survives_a_sigkill_and_restart(tmp_path: Path) -> None:
    server = HubServer(tmp_path).start()
    api = Api(server.url, "alice-token")
    try:
        mesh = await api.create_mesh()
        batch = await api.create_batch(["a.png", "b.png"])
        await api.callback(mesh["callback"], mesh["job_id"], progress=45, message="halfway", seq=7)
        member = batch["meshes"][0]
        quality = {"kind": "tetrahedra", "cells": 6520, "min_dihedral_deg": 8.6}
        await api.callback(member["callback"], member["job_id"], status="completed", quality=quality)
        server.kill()
        server.start()
        current = (await api.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()
        assert (current["status"], current["progress"], current["message"]) == ("processing", 45, "halfway")
        restored = (await api.http.get(f"meshprogress/api/v1/batches/{batch['id']}")).json()
        assert (restored["completed"], restored["pending"], restored["progress"]) == (1, 1, 50)
        kept = (await api.http.get(f"meshprogress/api/v1/meshes/{member['id']}")).json()
        assert kept["quality"] == quality and current["quality"] is None  # null until completed
        # Tokens issued before the restart still work (same secret), and seq dedupe survived too.
        assert (await api.callback(mesh["callback"], mesh["job_id"], progress=99, seq=7)).json()["applied"] is False
        assert (await api.callback(mesh["callback"], mesh["job_id"], progress=60, seq=8)).status_code == 202
        cable = await Cable.connect(server.ws_url, "alice-token")
        try:
            await cable.next()
            await cable.subscribe("MeshProgressChannel", mesh_id=mesh["id"])
            await cable.next()
            assert (await cable.next())["message"]["progress"] == 60
        finally:
            cable.close()
        new = await api.create_mesh()
        assert new["id"] > batch["mesh_ids"][-1]
    finally:
        await api.close()
        server.stop()
