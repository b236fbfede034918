"""Hub behaviour: who may read and control a job; stalled workers are failed, and Retry recovers them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from meshprogress_nb.server.config import MeshProgress
from meshprogress_nb.server.hub import Identity, ProgressHub
from meshprogress_nb.server.tokens import CallbackTokens
from support.clients import Api, Cable
from support.server import HubServer


async def test_a_silent_worker_is_failed_after_stall_timeout_and_retry_works(tmp_path: Path) -> None:
    server = HubServer(
        tmp_path, extra="c.MeshProgress.stall_timeout = 1.0\nc.MeshProgress.stall_check_interval = 0.2"
    ).start()
    api = Api(server.url, "alice-token")
    cable = await Cable.connect(server.ws_url, "alice-token")
    try:
        mesh = await api.create_mesh()
        await cable.next()
        await cable.subscribe("MeshProgressChannel", mesh_id=mesh["id"])
        await cable.next(), await cable.next()
        await api.callback(mesh["callback"], mesh["job_id"], progress=10)
        frames = await cable.messages_until(lambda m: m["status"] == "failed", timeout=10)
        assert "No progress report for 1 s" in frames[-1]["message"]
        late = await api.callback(mesh["callback"], mesh["job_id"], progress=20)
        assert late.status_code == 409 and late.json()["status"] == "failed"
        retried = (await api.http.post(f"meshprogress/api/v1/meshes/{mesh['id']}/retry")).json()
        assert retried["status"] == "pending"
        await asyncio.sleep(1.5)  # pending jobs are not "stalled": nothing has started them yet
        assert (await api.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()["status"] == "pending"
    finally:
        cable.close()
        await api.close()
        server.stop()


@pytest.mark.parametrize(
    ("who", "may_read", "may_control"),
    [
        (Identity("alice"), True, True),  # the owner
        (Identity("bob"), False, False),
        (Identity("reader"), True, False),  # read_users
        (Identity("carol", frozenset({"mesh-readers"})), True, False),  # read_groups
        (Identity("admin"), True, True),  # admin_users
        (Identity("dave", frozenset({"staff", "mesh-admins"})), True, True),  # admin_groups
        (Identity("mesh-admins"), False, False),  # a user named like a group is not in it
    ],
)
def test_who_may_read_and_control_a_job(who: Identity, may_read: bool, may_control: bool) -> None:
    config = MeshProgress(
        read_users=["reader"], read_groups=["mesh-readers"], admin_users=["admin"], admin_groups=["mesh-admins"]
    )
    hub = ProgressHub(config, backend=None, tokens=CallbackTokens("s", 60), callback_url="", api_path="/")  # type: ignore[arg-type]
    assert (hub.can_read(who, "alice"), hub.can_control(who, "alice")) == (may_read, may_control)
