"""alice's JupyterLab, in Chromium through the hub's proxy, while bob's kernel attacks her job.

alice logs in to the hub with its login form, runs a notebook in her own server that submits a job (its worker is
this test, posting to the callback URL the job record gives, the service's) and opens the Mesh jobs sidebar. While
the worker reports, a kernel of bob's server tries her job again and again with everything bob holds: cancel, retry
and read it through his server's API and at the service, subscribe to it on both cables, post reports for it with
no token, with his own job's token and with tokens signed by every key in his environment, and publish a frame on
her stream in Redis (its port given to him, its password not). Each attempt is refused, and her widget and sidebar
row show every report of her worker while they are made. Cancel and Retry from her widget work, and her widget ends
on what her worker last reported for attempt 2: completed.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hub_clients import API, WAIT, Deployment
from hub_harness import PASSWORD, JupyterHubProcess
from kernels import run_in_kernel
from playwright.sync_api import Locator, Page, expect

from support.clients import CALLBACK
from support.notebook_ui import (
    callback,
    chromium_page,
    job_notebook,
    need_browser,
    open_panel,
    read_targets,
    run_all,
    take_preferred_kernel,
    wait_for_notebook,
    widget,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

TITLE = "alice on the hub"
SHOWN = 20_000  # ms: a report reaches the page through the service, her server's cable and the proxy
OPENED = 90_000  # ms: JupyterLab, the kernel and the first widget on a loaded machine
ATTACK_SECONDS = 8  # bob's kernel repeats its attempts for at least this long, with the worker reporting meanwhile

BOB_ATTACKS = r"""
import json, os, socket, time
import httpx
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect
from meshprogress_nb.server.tokens import CallbackTokens

API, CALLBACK = "meshprogress/api/v1/", "meshprogress/api/v1/mesh_callbacks/progress"
auth = {"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]}
bases = {"his server": os.environ["JUPYTERHUB_SERVICE_URL"], "the service": os.environ["MESHPROGRESS_SERVICE_URL"]}
keys = sorted({value for value in os.environ.values() if 16 <= len(value) <= 512})
theirs = json.dumps({"channel": "MeshProgressChannel", "mesh_id": MESH_ID})
answers = {}

def note(attempt, answer):
    answers.setdefault(attempt, set()).add(json.dumps(answer, sort_keys=True))

async def subscribe(base, own_id):
    # alice's mesh, an action on it, then his own mesh: its update closes what the cable sent for the others.
    mine = json.dumps({"channel": "MeshProgressChannel", "mesh_id": own_id})
    url = base.replace("http", "ws", 1) + "meshprogress/cable"
    ws = await websocket_connect(HTTPRequest(url, headers=auth), subprotocols=["actioncable-v1-json"])
    try:
        for command in (
            {"command": "subscribe", "identifier": theirs},
            {"command": "message", "identifier": theirs, "data": json.dumps({"action": "request_update"})},
            {"command": "subscribe", "identifier": mine},
        ):
            await ws.write_message(json.dumps(command))
        frames = []
        while not (frames and frames[-1].get("identifier") == mine and "message" in frames[-1]):
            raw = await ws.read_message()
            if raw is None:
                return ["closed"]
            frame = json.loads(raw)
            if frame.get("type") != "ping":
                frames.append(frame)
        return [f for f in frames if f.get("identifier") == theirs or MESH_ID in (f.get("message") or {}).values()]
    finally:
        ws.close()

def publish(frame):
    # Raw RESP to her stream's channel, as if bob had found where Redis listens; he has no password for it.
    words = [b"PUBLISH", STREAM.encode(), json.dumps(frame).encode()]
    command = b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)
    with socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=30) as redis:
        redis.sendall(command)
        return redis.makefile("rb").readline().decode().split(" ")[0]

async with httpx.AsyncClient(timeout=30) as client:
    own = (await client.post(bases["his server"] + API + "meshes", headers=auth,
                             json={"source": "bob.png", "dispatch": False})).json()
    tokens = [("no token", None), ("his own job's token", own["callback"]["token"])]
    tokens += [(f"key {n} of his environment", CallbackTokens(key, 3600).issue(MESH_ID, JOB_ID))
               for n, key in enumerate(keys)]
    first, rounds = time.time(), 0
    while rounds < 2 or time.time() - first < ATTACK_SECONDS:
        for name, base in bases.items():
            for method, path in (("GET", ""), ("GET", "/result"), ("POST", "/cancel"), ("POST", "/retry")):
                response = await client.request(method, f"{base}{API}meshes/{MESH_ID}{path}", headers=auth)
                note(f"{method} meshes/id{path} at {name}", [response.status_code, response.json()])
            note(f"the cable at {name}", await subscribe(base, own["id"]))
        for url in (CALLBACK_URL, bases["his server"] + CALLBACK):
            for label, token in tokens:
                response = await client.post(
                    url, json={"job_id": JOB_ID, "status": "failed", "message": "forged by bob"},
                    headers={"X-Callback-Token": token} if token else {},
                )
                note(f"a report with {label}", [response.status_code, response.json()])
        note("a PUBLISH on Redis", publish({"mesh_id": MESH_ID, "version": 2**53, "status": "failed", "progress": 1}))
        rounds += 1
    last = time.time()
print(json.dumps({"first": first, "last": last, "rounds": rounds, "keys": len(keys),
                  "answers": {attempt: sorted(found) for attempt, found in answers.items()}}))
"""


def bob_attacks(deployment: Deployment, job: dict[str, Any]) -> dict[str, Any]:
    """Run bob's attempts on ``job`` in a kernel of his own server; what each kind of attempt was answered."""
    hub = deployment.hub
    setup = (
        f"MESH_ID, JOB_ID, CALLBACK_URL = {job['id']!r}, {job['job_id']!r}, {job['url']!r}\n"
        f"REDIS_PORT, STREAM = {deployment.redis_port!r}, {hub.redis_prefix + 'mesh:' + str(job['id'])!r}\n"
        f"ATTACK_SECONDS = {ATTACK_SECONDS!r}\n"
    )
    code = setup + BOB_ATTACKS
    return json.loads(asyncio.run(run_in_kernel(hub.user_url("bob"), deployment.tokens["bob"], code, timeout=240)))


def assert_all_refused(found: dict[str, Any], job: dict[str, Any]) -> None:
    """Every attempt of every round was answered one way, the documented refusal, and there were attempts."""
    assert found["rounds"] >= 2 and found["keys"] >= 3, found
    answers = {attempt: [json.loads(answer) for answer in seen] for attempt, seen in found["answers"].items()}
    rest = {attempt: seen for attempt, seen in answers.items() if attempt.startswith(("GET", "POST"))}
    assert len(rest) == 8, rest
    assert all(len(seen) == 1 and seen[0][0] == 404 and "error" in seen[0][1] for seen in rest.values()), rest
    identifier = json.dumps({"channel": "MeshProgressChannel", "mesh_id": job["id"]})
    for where in ("his server", "the service"):
        frames = answers[f"the cable at {where}"]
        assert frames == [[{"identifier": identifier, "type": "reject_subscription"}]], (where, frames)
    reports = {attempt: seen for attempt, seen in answers.items() if attempt.startswith("a report")}
    assert len(reports) == 2 + found["keys"], reports
    refused = [[401, {"error": "Invalid callback token"}]]
    assert all(seen == refused for seen in reports.values()), reports
    assert answers["a PUBLISH on Redis"] == ["-NOAUTH"]


def live_through_attacks(
    deployment: Deployment, job: dict[str, Any], report: Callable[[int], None]
) -> tuple[dict[str, Any], int]:
    """Let the worker report (``report(n)``, which waits until alice's page shows it) while bob attacks ``job``;
    how bob's attempts were answered, and how many reports alice saw during them."""
    seen_at: list[tuple[float, float]] = []
    with ThreadPoolExecutor(1) as pool:
        attack = pool.submit(bob_attacks, deployment, job)
        step = 0
        while not attack.done() and step < 500:
            step += 1
            posted = time.time()
            report(step)
            seen_at.append((posted, time.time()))
        found = attack.result()
    during = sum(1 for posted, shown in seen_at if found["first"] <= posted and shown <= found["last"])
    return found, during


def log_in(page: Page, hub: JupyterHubProcess, name: str) -> None:
    """The hub's login form, as a person fills it in."""
    page.goto(hub.url + "hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    with page.expect_navigation():
        page.click("#login_submit")
    assert any(c["name"] == "jupyterhub-session-id" for c in page.context.cookies()), "not logged in"


def shows(job_widget: Locator, row: Locator, progress: float) -> None:
    for place in (job_widget, row):
        bar = place.locator("[role=progressbar]").first
        expect(bar).to_have_attribute("aria-valuenow", f"{progress:g}", timeout=SHOWN)


def as_alice(deployment: Deployment, mesh_id: int) -> dict[str, Any]:
    response = httpx.get(
        f"{deployment.hub.user_url('alice')}{API}meshes/{mesh_id}",
        headers={"Authorization": f"token {deployment.tokens['alice']}"},
        timeout=WAIT,
    )
    assert response.status_code == 200, response.text
    return response.json()


def post(target: dict[str, Any], **fields: object) -> httpx.Response:
    return httpx.post(
        target["url"],
        json={"job_id": target["job_id"], **fields},
        headers={"X-Callback-Token": target["token"]},
        timeout=WAIT,
    )


def test_alices_widget_and_sidebar_stay_hers_and_live_through_bobs_attacks(deployment: Deployment) -> None:
    need_browser()
    hub = deployment.hub
    home = hub.home("alice")
    job_notebook(
        home,
        "hub-widget.ipynb",
        "import meshprogress_nb\njobs = meshprogress_nb.connect()\n"
        f"job = jobs.submit('images/brain.png', name={TITLE!r}, dispatch=False)\n",
        records="[job.record]",
        targets="hub-widget-callback.json",
        show="job",
    )
    with chromium_page() as page:
        log_in(page, hub, "alice")
        # Her own server, through the proxy: the hub's OAuth brings her back to the notebook.
        page.goto(hub.user_url("alice") + "lab/tree/hub-widget.ipynb?reset", timeout=OPENED)
        wait_for_notebook(page)
        take_preferred_kernel(page)
        panel = open_panel(page)
        run_all(page)

        (target,) = read_targets(home, "hub-widget-callback.json")
        assert target["url"] == hub.service_url + CALLBACK  # her worker posts to the service, not to her server
        job_widget = widget(page, TITLE)
        row = panel.locator(f".mp-JobRow[data-key='mesh:{target['id']}']")
        expect(job_widget).to_have_class(re.compile(r"\bmp-mod-pending\b"), timeout=OPENED)
        expect(job_widget).to_have_class(re.compile(r"\bmp-mod-connected\b"), timeout=SHOWN)
        expect(row).to_have_attribute("data-status", "pending", timeout=SHOWN)

        # Attempt 1: her worker reports in tenths of a percent while bob's kernel tries everything.
        def first_attempt(step: int) -> None:
            callback(target, status="processing", progress=10 + step / 10, message=f"meshing {step}")
            shows(job_widget, row, 10 + step / 10)

        found, during = live_through_attacks(deployment, target, first_attempt)
        assert_all_refused(found, target)
        assert during >= 2, f"alice saw {during} reports while bob attacked: {found['first']}..{found['last']}"
        record = as_alice(deployment, target["id"])
        assert (record["user"], record["status"], record["attempt"]) == ("alice", "processing", 1)
        assert record["message"].startswith("meshing ")
        expect(row.locator(".mp-JobRow-status")).to_have_text(f"Processing: {record['message']}", timeout=SHOWN)

        # Cancel from her widget: the widget, the row and the service agree; her worker is told to stop.
        job_widget.locator(".mp-Progress-cancel").click()
        expect(job_widget).to_have_class(re.compile(r"\bmp-mod-cancelled\b"), timeout=SHOWN)
        expect(row).to_have_attribute("data-status", "cancelled", timeout=SHOWN)
        assert as_alice(deployment, target["id"])["status"] == "cancelled"
        stopped = post(target, progress=99)
        assert (stopped.status_code, stopped.json()["status"]) == (409, "cancelled")

        # Retry from her widget: attempt 2, with a token of its own, which her page received (JupyterLab adds a
        # cache-busting query to the URL).
        retry_path = f"/user/alice/{API}meshes/{target['id']}/retry"
        with page.expect_response(
            lambda r: r.request.method == "POST" and urlsplit(r.url).path == retry_path, timeout=SHOWN
        ) as answered:
            job_widget.locator(".mp-Progress-retry").click()
        retried = answered.value.json()
        assert (retried["status"], retried["attempt"]) == ("pending", 2)
        second = {**retried["callback"], "job_id": retried["job_id"], "id": retried["id"]}
        assert second["url"] == target["url"] and second["token"] != target["token"]
        expect(job_widget).to_have_class(re.compile(r"\bmp-mod-pending\b"), timeout=SHOWN)
        expect(row).to_have_attribute("data-status", "pending", timeout=SHOWN)
        old = post(target, progress=50)
        assert (old.status_code, old.json()) == (401, {"error": "Invalid callback token"})

        # Attempt 2, through bob's attempts again, to its real end.
        def second_attempt(step: int) -> None:
            callback(second, status="processing", progress=step / 10, message=f"attempt 2: {step}")
            shows(job_widget, row, step / 10)

        found, during = live_through_attacks(deployment, second, second_attempt)
        assert_all_refused(found, second)
        assert during >= 2, f"alice saw {during} reports while bob attacked: {found['first']}..{found['last']}"
        callback(second, status="completed")
        expect(job_widget).to_have_class(re.compile(r"\bmp-mod-completed\b"), timeout=SHOWN)
        shows(job_widget, row, 100)
        expect(row).to_have_attribute("data-status", "completed", timeout=SHOWN)
        record = as_alice(deployment, target["id"])
        assert (record["status"], record["progress"], record["attempt"]) == ("completed", 100, 2)
        late = post(second, status="failed", message="late")
        assert (late.status_code, late.json()["status"]) == (409, "completed")
        expect(job_widget).to_have_class(re.compile(r"\bmp-mod-connected\b"), timeout=SHOWN)
