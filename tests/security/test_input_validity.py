"""Every string entering the hub is valid Unicode and every number finite: no job can be poisoned, the API always
answers valid JSON, and any job can always be cancelled."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from support.attack import API
from support.clients import CALLBACK, Api, Cable
from support.server import HubServer

SURROGATE = '"a\\ud800b"'  # a lone surrogate, as JSON text may carry it


def strict_json(response: httpx.Response) -> Any:
    """The body parsed as JSON proper: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} in {response.request.url}")

    return json.loads(response.content, parse_constant=refuse)


@pytest.mark.parametrize(
    ("source", "extra", "field"),
    [
        (SURROGATE, '"name": "n"', "source"),
        ('"a.png"', f'"name": {SURROGATE}', "name"),
        ('"a.png"', f'"params": {{"k": {SURROGATE}}}', "params"),
        ('"a.png"', f'"params": {{{SURROGATE}: 1}}', "params"),
        ('"a.png"', '"params": {"k": NaN}', "params"),
        ('"a.png"', '"params": {"k": [1e400]}', "params"),
        ('"a.png"', '"params": {"k": {"deep": -Infinity}}', "params"),
    ],
)
async def test_jobs_refuse_invalid_text_and_numbers(alice: Api, source: str, extra: str, field: str) -> None:
    json_type = {"Content-Type": "application/json"}
    mesh = await alice.http.post(API + "meshes", content=f'{{"source": {source}, {extra}}}', headers=json_type)
    assert mesh.status_code == 422 and strict_json(mesh)["field"] == field, mesh.text
    batch = await alice.http.post(API + "batches", content=f'{{"sources": [{source}], {extra}}}', headers=json_type)
    assert batch.status_code == 422 and strict_json(batch)["field"] == field.replace("source", "sources"), batch.text


async def test_callbacks_refuse_lone_surrogates_and_jobs_stay_controllable(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    token = {"X-Callback-Token": mesh["callback"]["token"], "Content-Type": "application/json"}
    for field in ("message", "result_url"):
        body = f'{{"job_id": "{mesh["job_id"]}", "progress": 5, "{field}": {SURROGATE}}}'
        response = await alice.http.post(hub.url + CALLBACK, content=body, headers=token)
        assert response.status_code == 422 and strict_json(response)["field"] == field, response.text
    accepted = await alice.callback(mesh["callback"], mesh["job_id"], progress=7, message="fine \N{DOG}")
    assert accepted.status_code == 202

    # A subscription the server cannot serve is rejected alone: the WebSocket and its other subscriptions live.
    cable = await Cable.connect(hub.ws_url, "alice-token")
    try:
        assert await cable.next() == {"type": "welcome"}
        await cable.send(
            {"command": "subscribe", "identifier": '{"channel": "MeshProgressChannel", "mesh_id": 1}\ud800'}
        )
        assert (await cable.next())["type"] == "reject_subscription"
        await cable.send({"command": "subscribe", "identifier": json.dumps({"channel": "Mesh\ud800", "mesh_id": 1})})
        assert (await cable.next())["type"] == "reject_subscription"
        good = await cable.subscribe("MeshProgressChannel", mesh_id=mesh["id"])
        assert await cable.next() == {"identifier": good, "type": "confirm_subscription"}
        assert (await cable.next())["message"]["message"] == "fine \N{DOG}"
    finally:
        cable.close()

    # The job API answers JSON proper everywhere, and the job can be cancelled.
    for route in ("meshes", f"meshes/{mesh['id']}", "batches"):
        strict_json(await alice.http.get(API + route))
    cancelled = await alice.http.post(f"{API}meshes/{mesh['id']}/cancel")
    assert cancelled.status_code == 200 and strict_json(cancelled)["status"] == "cancelled"
