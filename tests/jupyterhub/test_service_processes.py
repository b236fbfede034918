"""The service as two processes on one port (``--processes=2``), managed by a real JupyterHub.

A hub of its own (the documented example config, the service command given ``--processes=2``): cables and worker
callbacks go straight to the service's port, each on a connection of its own, and the test asks the kernel which
service process holds each connection, so it knows that reports accepted by either process reach subscribers on
both. Then the supervisor's lifecycle: SIGKILLed, its processes stop by themselves; SIGTERMed, it stops them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
from collections.abc import Iterator
from typing import Any

import psutil
import pytest
from hub_clients import WAIT, Deployment, open_cable, watch
from hub_harness import SERVICE, JupyterHubProcess

from support.clients import CALLBACK, Cable
from support.redis_server import RedisProcess

pytestmark = pytest.mark.timeout(300)

REPORTS = 12


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    redis = RedisProcess(tmp_path_factory.mktemp("redis"), password=secrets.token_urlsafe(24)).start()
    hub = JupyterHubProcess(
        tmp_path_factory.mktemp("jupyterhub"),
        users=["alice"],
        groups={},
        redis_url=redis.url,
        redis_prefix="test-processes:",
        service_args=("--processes=2",),
    )
    try:
        hub.start()
        yield Deployment(hub, {"alice": asyncio.run(hub.api_token("alice"))}, redis.port, redis.password)
    finally:
        hub.stop()
        redis.kill()


def supervisor(hub: JupyterHubProcess) -> psutil.Process:
    """The service process JupyterHub runs: the supervisor of the two (not one that died and awaits its reaping)."""
    assert hub.process is not None
    found = []
    for process in psutil.Process(hub.process.pid).children():
        try:
            if process.status() != psutil.STATUS_ZOMBIE and "meshprogress_nb.service" in process.cmdline():
                found.append(process)
        except psutil.NoSuchProcess:
            continue
    assert len(found) == 1, found
    return found[0]


def holder(port: int, client_port: int) -> int:
    """The pid of the service process holding the server side of the connection from ``client_port``."""
    for connection in psutil.net_connections("tcp"):
        ends = (connection.laddr and connection.laddr.port, connection.raddr and connection.raddr.port)
        if ends == (port, client_port) and connection.pid:
            return connection.pid
    raise AssertionError(f"no process holds the connection from port {client_port}")


async def post(port: int, path: str, token: str, fields: dict[str, Any]) -> tuple[int, dict[str, Any], int]:
    """A worker's callback on a connection of its own: the status, the body, and the process that answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps(fields).encode()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"X-Callback-Token: {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)).decode("latin-1")
    length = next(int(line.split(":")[1]) for line in head.split("\r\n") if line.lower().startswith("content-length"))
    answer = json.loads(await asyncio.wait_for(reader.readexactly(length), WAIT))
    pid = holder(port, writer.get_extra_info("sockname")[1])  # still open: kept alive
    writer.close()
    return int(head.split()[1]), answer, pid


async def cables_on_both(url: str, token: str, pids: set[int], mesh_id: int) -> list[tuple[Cable, int]]:
    """Cables subscribed to ``mesh_id`` until each of ``pids`` holds at least two (the kernel picks the process)."""
    cables: list[tuple[Cable, int]] = []
    port = int(url.split(":")[2].split("/")[0])
    while any(sum(1 for _, pid in cables if pid == p) < 2 for p in pids):
        assert len(cables) < 40, f"connections not spread over both processes: {[pid for _, pid in cables]}"
        cable = await open_cable(url, token)
        assert (await watch(cable, mesh_id))["status"] == "pending"
        cables.append((cable, holder(port, cable.connection.stream.socket.getsockname()[1])))
    return cables


async def test_reports_accepted_by_either_process_reach_subscribers_on_both(two_processes: Deployment) -> None:
    hub = two_processes.hub
    token = two_processes.tokens["alice"]
    service = supervisor(hub)
    pids = {p.pid for p in service.children()}
    assert len(pids) == 2
    direct = f"http://127.0.0.1:{hub.service_port}/services/{SERVICE}/"
    async with two_processes.api(direct, "alice") as api:
        response = await api.post("meshprogress/api/v1/meshes", json={"source": "brain.png", "dispatch": False})
    assert response.status_code == 201, response.text
    job = response.json()
    cables = await cables_on_both(two_processes.cable_url(direct), token, pids, job["id"])
    try:
        accepted_by: set[int] = set()
        for seq in range(1, REPORTS + 1):
            fields = {"job_id": job["job_id"], "seq": seq, "progress": seq * 5, "message": f"step {seq}"}
            if seq == REPORTS:
                fields["status"] = "completed"
            status, answer, pid = await post(
                hub.service_port, f"/services/{SERVICE}/{CALLBACK}", job["callback"]["token"], fields
            )
            assert (status, answer["applied"]) == (202, True), answer
            accepted_by.add(pid)
            # Every subscriber, on either process, gets this report before the next is sent (none coalesced).
            for cable, _ in cables:
                message = (await cable.next(timeout=WAIT))["message"]
                if seq < REPORTS:
                    assert (message["progress"], message["message"]) == (seq * 5, f"step {seq}")
                else:
                    assert (message["progress"], message["status"]) == (100, "completed")
        assert accepted_by == pids, "every report went to one process: the test proves nothing"
    finally:
        for cable, _ in cables:
            cable.close()


async def test_the_processes_stop_with_their_supervisor(two_processes: Deployment) -> None:
    hub = two_processes.hub
    service = supervisor(hub)
    children = service.children()
    assert len(children) == 2
    service.kill()  # no chance to stop them: they see the pipe close
    gone, alive = psutil.wait_procs(children, timeout=60)
    assert not alive, f"orphans: {alive}"

    # JupyterHub restarts the service it manages (on its next poll); SIGTERM then stops the supervisor and both.
    restarted = await _restarted(hub, service.pid)
    children = restarted.children()
    restarted.send_signal(signal.SIGTERM)
    gone, alive = psutil.wait_procs([restarted, *children], timeout=60)
    assert not alive, f"still running after SIGTERM: {alive}"


async def _restarted(hub: JupyterHubProcess, old: int) -> psutil.Process:
    """The new supervisor, once both its processes answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120  # the hub notices on its poll (30 s), then the service starts on a busy machine
    while loop.time() < deadline:
        try:
            service = supervisor(hub)
        except AssertionError:
            service = None
        if service is not None and service.pid != old and len(_listening(hub.service_port)) == 2:
            return service
        await asyncio.sleep(0.5)
    raise AssertionError(f"the service was not restarted:\n{hub.log()[-4000:]}")


def _listening(port: int) -> set[int]:
    return {c.pid for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port and c.status == "LISTEN"}
