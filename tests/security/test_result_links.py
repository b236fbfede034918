"""``result_url`` is only what the widget may show as a link; a bad one is a 422, which the SDK raises at once in the
worker's code, and a refused completion never leaves the job processing."""

from __future__ import annotations

import time

import httpx
import pytest

from meshprogress_nb.worker import ProgressReporter
from meshprogress_nb.worker import reporter as reporter_module
from support.clients import Api
from support.server import HubServer

API = "meshprogress/api/v1/"
REFUSED = ["/\\evil.example/x", "/\\t/x", "/\t/evil.example", "//evil.example/x", "javascript:alert(1)", "/a\nb", "x"]
ACCEPTED = ["/user/alice/files/out.ply", "/", "https://results.example.org/m/7.vtu", "http://h/x?y=1#z"]


async def test_the_hub_refuses_links_to_other_hosts(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    for url in REFUSED:
        response = await alice.callback(mesh["callback"], mesh["job_id"], status="completed", result_url=url)
        assert response.status_code == 422 and response.json()["field"] == "result_url", (url, response.text)
    for seq, url in enumerate(ACCEPTED, start=1):
        response = await alice.callback(mesh["callback"], mesh["job_id"], progress=1, result_url=url, seq=seq)
        assert response.status_code == 202, (url, response.text)


def wait_for(api: Api, mesh_id: int, status: str) -> dict:
    """The mesh once it has ``status`` (the SDK reports from its own thread), or as it is after 20 s."""
    deadline = time.monotonic() + 20
    while True:
        mesh = httpx.get(f"{api.http.base_url}{API}meshes/{mesh_id}", headers=api.http.headers).json()
        if mesh["status"] == status or time.monotonic() > deadline:
            return mesh
        time.sleep(0.05)


async def test_the_sdk_raises_at_once_and_the_job_ends_failed(hub: HubServer, alice: Api) -> None:
    mesh = await alice.create_mesh()
    with pytest.raises(ValueError, match="result_url"):  # noqa: SIM117 - the raise is the point
        with ProgressReporter(mesh["callback"]["url"], mesh["job_id"], mesh["callback"]["token"]) as reporter:
            reporter.update(50, "meshing")
            reporter.complete(result_url="/\\evil.example/x")
    failed = wait_for(alice, mesh["id"], "failed")
    assert failed["status"] == "failed" and "result_url" in failed["message"]


async def test_a_completion_the_hub_refuses_is_reported_failed(
    hub: HubServer, alice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An SDK whose own check lets the link through (an older rule): the hub's 422 ends the job failed."""
    monkeypatch.setattr(reporter_module, "is_result_link", lambda url: True)
    mesh = await alice.create_mesh()
    reporter = ProgressReporter(mesh["callback"]["url"], mesh["job_id"], mesh["callback"]["token"])
    reporter.update(50, "meshing")
    reporter.complete(result_url="/\\evil.example/x")
    assert reporter.close(timeout=20)
    failed = wait_for(alice, mesh["id"], "failed")
    assert failed["status"] == "failed" and failed["message"].startswith("The hub refused the completion")
