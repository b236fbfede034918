"""End to end on a real JupyterHub: the meshprogress service holds the state, users' servers forward to it.

One hub for the package (conftest.py), configured by the documented example (server_extension/jupyterhub_config.py):
the proxy (configurable-http-proxy), alice's and bob's spawned servers, and the service. Users are authenticated by
the hub, with API tokens or a login session and OAuth cookies; workers only by their callback token.
"""

from __future__ import annotations

import json

import httpx
import pytest
from hub_clients import (
    API,
    WAIT,
    Deployment,
    connect,
    cookie_header,
    create_mesh,
    open_cable,
    refused,
    report_in_lockstep,
    watch,
)
from kernels import run_in_kernel

from support.clients import CALLBACK

pytestmark = pytest.mark.timeout(170)


async def test_a_worker_reaches_the_job_through_the_proxy_and_its_owner_sees_every_update(
    deployment: Deployment,
) -> None:
    hub = deployment.hub
    job = await create_mesh(deployment, hub.user_url("alice"), "alice")
    # The service made the job: the URL is the service's public URL, from its JUPYTERHUB_* environment.
    assert job["user"] == "alice"
    assert job["callback"]["url"] == hub.service_url + CALLBACK
    via_server = hub.user_url("alice") + CALLBACK  # forwarded to the service, with the callback token alone

    cable = await open_cable(deployment.cable_url(hub.user_url("alice")), deployment.tokens["alice"])
    worker = httpx.AsyncClient(timeout=WAIT)  # no hub credentials, no cookies: the callback token is all it has
    try:
        assert (await watch(cable, job["id"]))["status"] == "pending"
        url = job["callback"]["url"]
        no_token = await worker.post(url, json={"job_id": job["job_id"], "progress": 5})
        assert (no_token.status_code, no_token.json()) == (401, {"error": "Invalid callback token"})
        hub_token_only = await worker.post(
            url,
            json={"job_id": job["job_id"], "progress": 5},
            headers={"Authorization": f"token {deployment.tokens['alice']}"},
        )
        assert hub_token_only.status_code == 401

        delivered = await report_in_lockstep(
            worker,
            cable,
            job,
            [
                (url, {"seq": 1, "progress": 10, "message": "loading", "status": "processing"}),
                (url, {"seq": 2, "progress": 35, "message": "meshing"}),
                (url, {"seq": 3, "progress": 60, "message": "meshing"}),
                (via_server, {"seq": 4, "progress": 85, "message": "smoothing"}),
                (via_server, {"seq": 5, "status": "completed", "result_url": "/results/brain.vtu"}),
            ],
        )
        assert [(p["progress"], p["status"]) for p in delivered] == [
            (10, "processing"),
            (35, "processing"),
            (60, "processing"),
            (85, "processing"),
            (100, "completed"),
        ]
        versions = [p["version"] for p in delivered]
        assert versions == sorted(set(versions))
        ended = await worker.post(
            url,
            json={"job_id": job["job_id"], "seq": 6, "progress": 99},
            headers={"X-Callback-Token": job["callback"]["token"]},
        )
        assert (ended.status_code, ended.json()["status"]) == (409, "completed")
    finally:
        cable.close()
        await worker.aclose()


async def test_the_service_is_one_stable_url_and_delivers_to_the_owners_server(deployment: Deployment) -> None:
    hub = deployment.hub
    job = await create_mesh(deployment, hub.service_url, "alice")
    assert job["user"] == "alice"
    assert job["callback"]["url"] == hub.service_url + CALLBACK

    cable = await open_cable(deployment.cable_url(hub.user_url("alice")), deployment.tokens["alice"])
    worker = httpx.AsyncClient(timeout=WAIT)
    try:
        assert (await watch(cable, job["id"]))["status"] == "pending"
        url = job["callback"]["url"]
        delivered = await report_in_lockstep(
            worker,
            cable,
            job,
            [(url, {"seq": i, "progress": 20.0 * i}) for i in range(1, 5)]
            + [(url, {"seq": 5, "status": "failed", "message": "bad input"})],
        )
        assert [p["progress"] for p in delivered[:-1]] == [20, 40, 60, 80]
        assert (delivered[-1]["status"], delivered[-1]["message"]) == ("failed", "bad input")
    finally:
        cable.close()
        await worker.aclose()
    async with deployment.api(hub.user_url("alice"), "alice") as alice:
        assert [m["id"] for m in (await alice.get(API + "meshes")).json()["meshes"]].count(job["id"]) == 1


async def test_another_user_cannot_see_watch_cancel_or_retry_the_job(deployment: Deployment) -> None:
    hub = deployment.hub
    job = await create_mesh(deployment, hub.user_url("alice"), "alice")
    mesh = f"{API}meshes/{job['id']}"
    for base in (hub.user_url("bob"), hub.service_url):
        async with deployment.api(base, "bob") as bob:
            assert (await bob.get(mesh)).status_code == 404
            assert (await bob.post(mesh + "/cancel")).status_code == 404
            assert (await bob.post(mesh + "/retry")).status_code == 404
            listed = (await bob.get(API + "meshes")).json()["meshes"]
            assert job["id"] not in [m["id"] for m in listed]
        cable = await open_cable(deployment.cable_url(base), deployment.tokens["bob"])
        try:
            assert await refused(cable, job["id"])
        finally:
            cable.close()
    # alice's own server does not let bob in at all: the hub's access scopes stop him before the hub code.
    async with deployment.api(hub.user_url("alice"), "bob") as bob:
        assert (await bob.get(mesh)).status_code == 403
    cable = await connect(deployment.cable_url(hub.user_url("alice")), deployment.tokens["bob"])
    try:
        assert await cable.next(timeout=WAIT) == {"type": "disconnect", "reason": "unauthorized", "reconnect": False}
    finally:
        cable.close()
    async with deployment.api(hub.user_url("alice"), "alice") as alice:
        assert (await alice.get(mesh)).json()["status"] == "pending"


async def test_hub_groups_may_read_and_hub_admins_may_control(deployment: Deployment) -> None:
    """carol is in the hub group ``mesh-readers`` (read_groups); ``admin`` is a hub admin (admin_users)."""
    hub = deployment.hub
    job = await create_mesh(deployment, hub.user_url("alice"), "alice")
    mesh = f"{API}meshes/{job['id']}"
    # At the service with her own token, and through her own server, whose token carries her groups.
    for base in (hub.service_url, hub.user_url("carol")):
        async with deployment.api(base, "carol") as carol:
            assert (await carol.get(mesh)).json()["user"] == "alice"
            assert (await carol.post(mesh + "/cancel")).status_code == 403
    cable = await open_cable(deployment.cable_url(hub.user_url("carol")), deployment.tokens["carol"])
    try:
        assert (await watch(cable, job["id"]))["mesh_id"] == job["id"]
        async with deployment.api(hub.service_url, "admin") as admin:
            cancelled = await admin.post(mesh + "/cancel")
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert (await cable.next(timeout=WAIT))["message"]["status"] == "cancelled"
    finally:
        cable.close()


async def test_browser_sessions_use_the_hubs_cookies(deployment: Deployment) -> None:
    hub = deployment.hub
    job = await create_mesh(deployment, hub.user_url("alice"), "alice")
    mesh = f"user/alice/{API}meshes/{job['id']}"
    origin = hub.url.rstrip("/")
    alice = await hub.login("alice")
    bob = await hub.login("bob")
    try:
        # Opening a page of one's own server completes the hub's OAuth and sets that server's cookie.
        assert (await alice.get("user/alice/lab")).status_code == 200
        assert (await alice.get(mesh)).json()["user"] == "alice"
        cable = await open_cable(
            deployment.cable_url(hub.user_url("alice")),
            headers={"Cookie": cookie_header(alice, "/user/alice/meshprogress/cable"), "Origin": origin},
        )
        try:
            assert (await watch(cable, job["id"]))["status"] == "pending"
        finally:
            cable.close()

        assert (await bob.get("user/bob/lab")).status_code == 200
        assert (await bob.get("user/alice/lab")).status_code == 403  # the hub refuses bob alice's server
        assert (await bob.get(mesh)).status_code == 403
        assert (await bob.get(f"user/bob/{API}meshes/{job['id']}")).status_code == 404
        cable = await open_cable(
            deployment.cable_url(hub.user_url("bob")),
            headers={"Cookie": cookie_header(bob, "/user/bob/meshprogress/cable"), "Origin": origin},
        )
        try:
            assert await refused(cable, job["id"])
        finally:
            cable.close()
    finally:
        await alice.aclose()
        await bob.aclose()


async def test_alices_widget_flow_goes_through_her_own_server(deployment: Deployment) -> None:
    """What the widgets and the sidebar do, at alice's server only: it forwards to the service as alice."""
    hub = deployment.hub
    alice_server = hub.user_url("alice")
    job = await create_mesh(deployment, alice_server, "alice")
    cable = await open_cable(deployment.cable_url(alice_server), deployment.tokens["alice"])
    worker = httpx.AsyncClient(timeout=WAIT)
    try:
        assert (await watch(cable, job["id"]))["status"] == "pending"
        delivered = await report_in_lockstep(
            worker,
            cable,
            job,
            [(job["callback"]["url"], {"seq": 1, "progress": 30, "status": "processing"})],
        )
        assert (delivered[0]["progress"], delivered[0]["status"]) == (30, "processing")
        async with deployment.api(alice_server, "alice") as alice:
            mesh = f"{API}meshes/{job['id']}"
            assert (await alice.get(mesh)).json()["progress"] == 30
            assert job["id"] in [m["id"] for m in (await alice.get(API + "meshes")).json()["meshes"]]
            cancelled = await alice.post(mesh + "/cancel")
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
            assert (await cable.next(timeout=WAIT))["message"]["status"] == "cancelled"
            retried = await alice.post(mesh + "/retry")
            assert retried.status_code == 200, retried.text
            assert retried.json()["callback"]["url"] == hub.service_url + CALLBACK
            assert (await cable.next(timeout=WAIT))["message"]["status"] == "pending"
            # Errors of the service come back as they are, JSON and status.
            missing = await alice.get(f"{API}meshes/999999999")
            assert missing.status_code == 404 and "error" in missing.json()
            assert (await alice.get(f"{API}meshes/{job['id']}/result")).status_code == 409  # no file (yet)
            assert (await alice.get(API + "openapi.json")).json()["openapi"].startswith("3.")
            too_big = await alice.post(API + "meshes", json={"source": "x" * (65 * 1024)})
            assert (too_big.status_code, too_big.json()) == (413, {"error": "Request body too large"})
    finally:
        cable.close()
        await worker.aclose()


KERNEL_CLIENT = """
import json, meshprogress_nb
jobs = meshprogress_nb.connect()
job = jobs.submit("images/brain.png", dispatch=False)
print(json.dumps({"job": job.record, "cancelled": job.cancel()["status"], "listed": [m.id for m in jobs.list()]}))
"""


async def test_meshprogress_connect_in_alices_kernel_reaches_the_service_as_alice(deployment: Deployment) -> None:
    hub = deployment.hub
    output = await run_in_kernel(hub.user_url("alice"), deployment.tokens["alice"], KERNEL_CLIENT, timeout=120)
    found = json.loads(output)
    assert found["job"]["user"] == "alice"
    assert found["job"]["callback"]["url"] == hub.service_url + CALLBACK
    assert found["cancelled"] == "cancelled"
    assert found["job"]["id"] in found["listed"]
