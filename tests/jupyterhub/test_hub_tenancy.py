"""Users who do not trust each other: bob's code, in a kernel of his own server, tries everything it can find.

The service alone holds the signing secret and the Redis password; bob's server and kernels hold neither. Bob's
kernel collects every credential within its reach (its environment and its server's, every file under the
server's home and Jupyter directories), then each is tried as a Redis password, as a signing key for alice's job,
and as a hub token against alice's ids. Every attempt fails, the documented way.

Here every process runs as one Unix user, so a kernel could also read the service's /proc entries; a real
deployment runs users' servers as other users or in other containers. What bob collects is what his server can
reach by design.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from typing import Any

import httpx
import pytest
from hub_clients import API, WAIT, Deployment, connect, create_mesh, open_cable, refused
from kernels import run_in_kernel

from meshprogress_nb.server.tokens import CallbackTokens
from support.clients import CALLBACK

pytestmark = pytest.mark.timeout(240)

COLLECT = r"""
import json, os
from pathlib import Path
from jupyter_core.paths import jupyter_config_dir, jupyter_data_dir, jupyter_runtime_dir

def environ(pid):
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(e.decode(errors="replace").partition("=")[::2] for e in entries if e)

found = {"kernel": dict(os.environ), "server": environ(os.getppid()), "files": {}}
roots = {Path.cwd(), Path.home(), Path(jupyter_config_dir()), Path(jupyter_data_dir()), Path(jupyter_runtime_dir())}
for root in roots:
    for path in root.rglob("*") if root.is_dir() else ():
        try:
            if path.is_file() and path.stat().st_size < 1_000_000:
                found["files"][str(path)] = path.read_text(errors="replace")
        except OSError:
            pass
print(json.dumps(found))
"""

SECRET_NAMES = ("MESHPROGRESS_SECRET", "MESHPROGRESS_REDIS_URL")


def candidates(found: dict[str, Any]) -> set[str]:
    """Every string bob found that could be a password, key or token: whole values and their pieces."""
    texts = [*found["kernel"].values(), *found["server"].values(), *found["files"].values()]
    pieces: set[str] = set()
    for text in texts:
        pieces.add(text.strip())
        pieces.update(re.split(r"[\s\"'=,:;@/{}\[\]]+", text))
    return {piece for piece in pieces if 8 <= len(piece) <= 512}


def redis_replies(port: int, commands: list[list[str]]) -> list[bytes]:
    """Raw RESP: the first line of Redis's reply to each command, sent on one connection with no credentials."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        stream = sock.makefile("rwb")
        for command in commands:
            stream.write(f"*{len(command)}\r\n".encode())
            for arg in command:
                data = arg.encode()
                stream.write(b"$%d\r\n%s\r\n" % (len(data), data))
        stream.flush()
        return [stream.readline().rstrip() for _ in commands]


@pytest.fixture(scope="module")
def bobs_findings(deployment: Deployment) -> dict[str, Any]:
    bob = deployment.hub.user_url("bob")
    return json.loads(asyncio.run(run_in_kernel(bob, deployment.tokens["bob"], COLLECT, timeout=120)))


async def test_bobs_server_and_kernels_hold_no_secret(deployment: Deployment, bobs_findings: dict[str, Any]) -> None:
    for place in ("kernel", "server"):
        environ = bobs_findings[place]
        assert environ["JUPYTERHUB_USER"] == "bob"
        assert not [name for name in SECRET_NAMES if name in environ], place
        assert environ["MESHPROGRESS_SERVICE_URL"].endswith("/services/meshprogress/")
    everything = json.dumps(bobs_findings)
    assert deployment.hub.secret not in everything
    assert deployment.redis_password not in everything
    assert bobs_findings["files"], "bob's kernel read no file at all: the collection is broken"


async def test_redis_refuses_bob_with_and_without_every_credential_he_found(
    deployment: Deployment, bobs_findings: dict[str, Any]
) -> None:
    found = sorted(candidates(bobs_findings))
    assert len(found) > 10
    commands = [["PING"], ["SCAN", "0"], ["PUBLISH", "test-jupyterhub:mesh:1", "{}"]]
    commands += [["AUTH", password] for password in found]
    commands += [["AUTH", "default", password] for password in found]
    replies = redis_replies(deployment.redis_port, commands)
    assert all(reply.startswith(b"-NOAUTH") for reply in replies[:3]), replies[:3]
    assert all(reply.startswith(b"-WRONGPASS") for reply in replies[3:]), {r for r in replies[3:]}


async def test_no_key_bob_found_signs_a_token_for_alices_job(
    deployment: Deployment, bobs_findings: dict[str, Any]
) -> None:
    hub = deployment.hub
    job = await create_mesh(deployment, hub.user_url("alice"), "alice")
    keys = sorted(key for key in candidates(bobs_findings) if len(key) >= 16)  # MeshProgress.secret's least
    async with httpx.AsyncClient(timeout=WAIT) as worker:
        for url in (hub.service_url + CALLBACK, hub.user_url("bob") + CALLBACK):
            for key in keys:
                forged = CallbackTokens(key, 3600).issue(job["id"], job["job_id"])
                response = await worker.post(
                    url,
                    json={"job_id": job["job_id"], "progress": 99, "message": "forged"},
                    headers={"X-Callback-Token": forged},
                )
                assert (response.status_code, response.json()) == (401, {"error": "Invalid callback token"}), key
    async with deployment.api(hub.user_url("alice"), "alice") as alice:
        mesh = (await alice.get(f"{API}meshes/{job['id']}")).json()
    assert (mesh["progress"], mesh["message"]) == (0, "")


async def test_bobs_hub_tokens_do_not_reach_alices_jobs(deployment: Deployment, bobs_findings: dict[str, Any]) -> None:
    hub = deployment.hub
    job = await create_mesh(deployment, hub.user_url("alice"), "alice")
    batch_response = None
    async with deployment.api(hub.user_url("alice"), "alice") as alice:
        batch_response = await alice.post(API + "batches", json={"sources": ["a.png"], "dispatch": False})
    assert batch_response.status_code == 201, batch_response.text
    batch = batch_response.json()
    bobs_tokens = {
        token
        for place in ("kernel", "server")
        for name in ("JUPYTERHUB_API_TOKEN", "MESHPROGRESS_SERVER_TOKEN")
        if (token := bobs_findings[place].get(name))
    }
    assert bobs_tokens
    mesh, batch_path = f"{API}meshes/{job['id']}", f"{API}batches/{batch['id']}"
    for token in sorted(bobs_tokens):
        for base in (hub.user_url("bob"), hub.service_url):
            async with deployment.api(base, None, token) as bob:
                for path in (mesh, mesh + "/result", batch_path):
                    assert (await bob.get(path)).status_code == 404, (base, path)
                for path in (mesh + "/cancel", mesh + "/retry", batch_path + "/cancel", batch_path + "/retry"):
                    assert (await bob.post(path)).status_code == 404, (base, path)
                listed = (await bob.get(API + "meshes")).json()["meshes"]
                assert job["id"] not in [m["id"] for m in listed]
            if base == hub.service_url:  # nor run code in the service, where the secrets are
                async with deployment.api(base, None, token) as bob:
                    assert (await bob.post("api/kernels", json={"name": "python3"})).status_code == 403
                    assert (await bob.get("api/contents")).status_code == 403
            cable = await open_cable(deployment.cable_url(base), token)
            try:
                assert await refused(cable, job["id"])
            finally:
                cable.close()
        # alice's server does not let bob's tokens in at all.
        async with deployment.api(hub.user_url("alice"), None, token) as bob:
            assert (await bob.get(mesh)).status_code == 403
        cable = await connect(deployment.cable_url(hub.user_url("alice")), token)
        try:
            frame = await cable.next(timeout=WAIT)
            assert frame == {"type": "disconnect", "reason": "unauthorized", "reconnect": False}
        finally:
            cable.close()
    async with deployment.api(hub.user_url("alice"), "alice") as alice:
        assert (await alice.get(mesh)).json()["status"] == "pending"
