"""Every route and status code of the HTTP API, against a real jupyter-server, on both backends."""

from __future__ import annotations

import httpx
import pytest

from support.clients import CALLBACK, Api
from support.server import HubServer

API = "meshprogress/api/v1/"


async def test_create_read_list_mesh(alice: Api, bob: Api) -> None:
    created = await alice.create_mesh("scans/brain.png", params={"mode": "heightfield"})
    assert created["status"] == "pending" and created["progress"] == 0 and created["name"] == "brain.png"
    assert created["user"] == "alice" and created["callback"]["url"].endswith(CALLBACK)
    mesh_id = created["id"]
    read = (await alice.http.get(f"{API}meshes/{mesh_id}")).json()
    assert read["id"] == mesh_id and "callback" not in read and read["params"] == {"mode": "heightfield"}
    listed = (await alice.http.get(f"{API}meshes")).json()["meshes"]
    assert mesh_id in [m["id"] for m in listed]
    assert mesh_id not in [m["id"] for m in (await bob.http.get(f"{API}meshes")).json()["meshes"]]
    pending = (await alice.http.get(f"{API}meshes", params={"status": "pending"})).json()["meshes"]
    assert all(m["status"] == "pending" for m in pending) and mesh_id in [m["id"] for m in pending]
    bad = await alice.http.get(f"{API}meshes", params={"status": "nope"})
    assert bad.status_code == 422 and bad.json()["field"] == "status"


async def test_other_users_and_unknown_ids_get_the_same_404(alice: Api, bob: Api) -> None:
    mesh = await alice.create_mesh()
    theirs = await bob.http.get(f"{API}meshes/{mesh['id']}")
    missing = await bob.http.get(f"{API}meshes/999999999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"].startswith("Mesh") and missing.json()["error"].startswith("Mesh")
    for action in ("cancel", "retry"):
        assert (await bob.http.post(f"{API}meshes/{mesh['id']}/{action}")).status_code == 404


async def test_admin_reads_and_controls_every_job(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    admin = Api(hub.url, "admin-token")
    try:
        assert (await admin.http.get(f"{API}meshes/{mesh['id']}")).status_code == 200
        assert (await admin.http.post(f"{API}meshes/{mesh['id']}/cancel")).json()["status"] == "cancelled"
    finally:
        await admin.close()


async def test_unauthenticated_requests_are_refused(hub: HubServer) -> None:
    anonymous = Api(hub.url, None)
    try:
        response = await anonymous.http.get(f"{API}meshes")
        assert response.status_code == 401 and "error" in response.json()
        assert response.headers["WWW-Authenticate"] == "token"
        response = await anonymous.http.post(f"{API}meshes", json={"source": "x"})
        assert response.status_code == 401
    finally:
        await anonymous.close()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "source"),
        ({"source": ""}, "source"),
        ({"source": 5}, "source"),
        ({"source": "a", "name": 3}, "name"),
        ({"source": "a", "params": [1]}, "params"),
        ({"source": "a", "dispatch": "yes"}, "dispatch"),
    ],
)
async def test_create_mesh_validates_fields(alice: Api, body: dict, field: str) -> None:
    response = await alice.http.post(f"{API}meshes", json=body)
    assert response.status_code == 422 and response.json()["field"] == field


async def test_create_mesh_rejects_bad_bodies(alice: Api) -> None:
    assert (await alice.http.post(f"{API}meshes", content=b"{nope")).status_code == 400
    big = await alice.http.post(f"{API}meshes", json={"source": "a", "name": "x" * 100_000})
    assert big.status_code == 413


async def test_callback_lifecycle_cancel_and_retry(alice: Api) -> None:
    mesh = await alice.create_mesh()
    ok = await alice.callback(mesh["callback"], mesh["job_id"], progress=30, message="meshing", seq=1)
    assert ok.status_code == 202 and ok.json() == {"status": "accepted", "job_id": mesh["job_id"], "applied": True}
    dup = await alice.callback(mesh["callback"], mesh["job_id"], progress=90, seq=1)
    assert dup.status_code == 202 and dup.json()["applied"] is False
    current = (await alice.http.get(f"{API}meshes/{mesh['id']}")).json()
    assert (current["status"], current["progress"], current["message"]) == ("processing", 30, "meshing")

    cancelled = await alice.http.post(f"{API}meshes/{mesh['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    late = await alice.callback(mesh["callback"], mesh["job_id"], progress=50, seq=2)
    assert late.status_code == 409 and late.json()["status"] == "cancelled"
    again = await alice.http.post(f"{API}meshes/{mesh['id']}/cancel")
    assert again.status_code == 409 and "error" in again.json()

    retried = (await alice.http.post(f"{API}meshes/{mesh['id']}/retry")).json()
    assert retried["status"] == "pending" and retried["attempt"] == 2 and retried["job_id"] != mesh["job_id"]
    assert retried["version"] > cancelled.json()["version"]
    old = await alice.callback(mesh["callback"], mesh["job_id"], progress=50, seq=3)
    assert old.status_code == 401
    assert retried["quality"] is None
    quality = {"kind": "surface", "cells": 1772, "watertight": True, "min_angle_deg": 12.5}
    fresh = await alice.callback(
        retried["callback"], retried["job_id"], status="completed", result_url="/r/1", quality=quality
    )
    assert fresh.status_code == 202
    done = (await alice.http.get(f"{API}meshes/{mesh['id']}")).json()
    assert (done["status"], done["progress"], done["result_url"]) == ("completed", 100, "/r/1")
    assert done["quality"] == quality
    assert (await alice.http.post(f"{API}meshes/{mesh['id']}/retry")).status_code == 409
    after = await alice.callback(retried["callback"], retried["job_id"], progress=10)
    assert after.status_code == 409 and after.json()["status"] == "completed"


async def test_callback_token_failures_are_all_the_same_401(alice: Api, bob: Api) -> None:
    mine, other = await alice.create_mesh(), await bob.create_mesh()
    url = mine["callback"]["url"]
    cases = [
        {},
        {"X-Callback-Token": ""},
        {"X-Callback-Token": "garbage"},
        {"X-Callback-Token": other["callback"]["token"]},
        {"X-Callback-Token": mine["callback"]["token"][:-3] + "AAA"},
    ]
    answers = []
    for headers in cases:
        response = await alice.http.post(url, json={"job_id": mine["job_id"], "progress": 5}, headers=headers)
        answers.append((response.status_code, response.json()))
    unknown = await alice.http.post(
        url, json={"job_id": "no-such-job", "progress": 5}, headers={"X-Callback-Token": mine["callback"]["token"]}
    )
    answers.append((unknown.status_code, unknown.json()))
    assert all(answer == (401, {"error": "Invalid callback token"}) for answer in answers), answers
    current = (await alice.http.get(f"{API}meshes/{mine['id']}")).json()
    assert current["status"] == "pending" and current["version"] == mine["version"]


async def test_callback_ignores_jupyter_credentials(hub: HubServer, alice: Api) -> None:
    """The callback route accepts no authority but the token: a Jupyter token alone gets 401."""
    mesh = await alice.create_mesh()
    response = await alice.http.post(CALLBACK, json={"job_id": mesh["job_id"], "progress": 5})
    assert response.status_code == 401


async def test_callback_bad_input_changes_nothing(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    headers = {"X-Callback-Token": mesh["callback"]["token"]}
    async with httpx.AsyncClient(base_url=hub.url, headers=headers, timeout=20) as worker:
        bodies = [
            (b'{"job_id": "%s", "progress": NaN}' % mesh["job_id"].encode(), "application/json", 422),
            (b'{"job_id": "%s", "progress": 101}' % mesh["job_id"].encode(), "application/json", 422),
            (b'{"job_id": "%s", "progress": "50"}' % mesh["job_id"].encode(), "application/json", 422),
            (b'{"job_id": "%s", "status": "done"}' % mesh["job_id"].encode(), "application/json", 422),
            (b"\xff\xfe\x00", "application/json", 400),
            (b"[" * 30_000, "application/json", 400),
        ]
        for body, content_type, status in bodies:
            response = await worker.post(CALLBACK, content=body, headers={"Content-Type": content_type})
            assert response.status_code == status, (body[:40], response.text)
            assert "error" in response.json()
        # Refused before it is read: a 413 and the connection closed, which a client still sending sees as a reset.
        try:
            response = await worker.post(CALLBACK, content=b"x" * (10 * 1024 * 1024))
            assert response.status_code == 413 and "error" in response.json()
        except (httpx.ReadError, httpx.WriteError):
            pass
        form = await worker.post(CALLBACK, data={"job_id": mesh["job_id"], "progress": "12.5", "seq": "1"})
        assert form.status_code == 202
    current = (await alice.http.get(f"{API}meshes/{mesh['id']}")).json()
    assert current["progress"] == 12.5 and current["version"] == mesh["version"] + 1


async def test_batches_create_read_cancel_retry(alice: Api, bob: Api) -> None:
    batch = await alice.create_batch(["a.png", "b.png", "c.png"], name="run-1")
    assert batch["total"] == 3 and batch["pending"] == 3 and batch["status"] == "pending" and batch["name"] == "run-1"
    first, second, third = batch["meshes"]
    await alice.callback(first["callback"], first["job_id"], progress=50)
    await alice.callback(second["callback"], second["job_id"], status="completed")
    read = (await alice.http.get(f"{API}batches/{batch['id']}")).json()
    assert (read["processing"], read["completed"], read["pending"]) == (1, 1, 1)
    assert read["progress"] == 50.0 and read["status"] == "processing" and read["mesh_ids"] == batch["mesh_ids"]
    assert (await bob.http.get(f"{API}batches/{batch['id']}")).status_code == 404
    assert batch["id"] in [b["id"] for b in (await alice.http.get(f"{API}batches")).json()["batches"]]

    cancelled = (await alice.http.post(f"{API}batches/{batch['id']}/cancel")).json()
    assert (cancelled["cancelled"], cancelled["completed"], cancelled["status"]) == (2, 1, "completed")
    retried = (await alice.http.post(f"{API}batches/{batch['id']}/retry")).json()
    assert (retried["pending"], retried["completed"], retried["status"]) == (2, 1, "processing")
    assert third["id"] in retried["mesh_ids"]


async def test_a_batchs_members_by_status_for_whoever_may_read_the_batch(hub: HubServer, alice: Api, bob: Api) -> None:
    await alice.create_mesh("not-in-the-batch.png")
    batch = await alice.create_batch(["a.png", "b.png", "c.png"])
    first, second, _ = batch["meshes"]
    await alice.callback(first["callback"], first["job_id"], progress=50)
    await alice.callback(second["callback"], second["job_id"], status="failed")
    members = (await alice.http.get(f"{API}meshes", params={"batch_id": batch["id"]})).json()["meshes"]
    assert sorted(m["id"] for m in members) == sorted(batch["mesh_ids"])
    failed = (await alice.http.get(f"{API}meshes", params={"batch_id": batch["id"], "status": "failed"})).json()
    assert [m["id"] for m in failed["meshes"]] == [second["id"]]
    admin = Api(hub.url, "admin-token")  # reads every job, though its own list holds none of alice's
    try:
        processing = await admin.http.get(f"{API}meshes", params={"batch_id": batch["id"], "status": "processing"})
        assert [m["id"] for m in processing.json()["meshes"]] == [first["id"]]
    finally:
        await admin.close()
    for who, batch_id in ((bob, batch["id"]), (alice, 10**9), (alice, "x"), (alice, 0)):
        response = await who.http.get(f"{API}meshes", params={"batch_id": batch_id})
        assert response.status_code == 404 and "error" in response.json(), (batch_id, response.text)


@pytest.mark.parametrize(
    ("body", "status"),
    [({"sources": []}, 422), ({"sources": "a.png"}, 422), ({"sources": ["a", 3]}, 422), ({}, 422)],
)
async def test_batch_validation(alice: Api, body: dict, status: int) -> None:
    response = await alice.http.post(f"{API}batches", json=body)
    assert response.status_code == status and response.json()["field"] == "sources"


async def test_batch_of_failures_is_failed(alice: Api) -> None:
    batch = await alice.create_batch(["a.png", "b.png"])
    for mesh in batch["meshes"]:
        await alice.callback(mesh["callback"], mesh["job_id"], status="failed", message="bad image")
    read = (await alice.http.get(f"{API}batches/{batch['id']}")).json()
    assert (read["failed"], read["status"]) == (2, "failed")


async def test_server_keeps_answering_after_bad_input(alice: Api) -> None:
    for body in (b"\x00" * 1000, b"{" * 10000, b"[]"):
        await alice.http.post(CALLBACK, content=body)
        await alice.http.post(f"{API}meshes", content=body)
    assert (await alice.http.get(f"{API}meshes")).status_code == 200


async def test_cookie_sessions_need_the_xsrf_token_and_give_callbacks_no_authority(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    cookies = {"meshprogress-test-user": "alice"}
    async with httpx.AsyncClient(base_url=hub.url, cookies=cookies, timeout=20) as browser:
        assert (await browser.get(f"{API}meshes/{mesh['id']}")).status_code == 200
        forged = await browser.post(f"{API}meshes/{mesh['id']}/cancel")
        assert forged.status_code == 403 and "error" in forged.json()
        browser.cookies.set("_xsrf", "same-value")
        with_token = await browser.post(f"{API}meshes/{mesh['id']}/cancel", headers={"X-XSRFToken": "same-value"})
        assert with_token.status_code == 200 and with_token.json()["status"] == "cancelled"
        callback = await browser.post(CALLBACK, json={"job_id": mesh["job_id"], "progress": 5})
        assert callback.status_code == 401
