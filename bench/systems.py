"""The systems under test, each a server process of its own: the hub (Redis or embedded), the bare tornado
baselines, and the Django Channels peer. Each knows its WebSocket URL, what to subscribe to and what to POST."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "jupyterhub"))

from hub_harness import SERVICE, JupyterHubProcess  # noqa: E402

from support.server import HubServer, free_port  # noqa: E402

IDENTIFIER = '{{"channel":"MeshProgressChannel","mesh_id":{}}}'


@dataclass
class Job:
    """One job's callback: what a worker needs to POST progress."""

    url: str
    token: str
    job_id: str
    mesh_id: int

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "token": self.token, "job_id": self.job_id}


@dataclass
class System:
    """A running server: ``jobs(n)`` creates n jobs, ``fanout_job`` is the one mesh the fan-out runs watch."""

    name: str
    ws_url: str
    pid: int = 0
    info: dict[str, Any] = field(default_factory=dict)

    def start(self) -> System:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def jobs(self, n: int) -> list[Job]:
        raise NotImplementedError

    def broadcast_target(self, job: Job) -> dict[str, Any]:
        """What the load generator POSTs for a fan-out sample (a worker's callback)."""
        return {"url": job.url, "headers": {"X-Callback-Token": job.token}, "fields": {"job_id": job.job_id}}


def _request(url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not start:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Hub(System):
    """The real thing: jupyter-server with the meshprogress extension (tests/support's HubServer)."""

    def __init__(self, root: Path, redis_url: str, prefix: str) -> None:
        mode = "redis" if redis_url else "embedded"
        super().__init__(name=f"hub-{mode}", ws_url="")
        root.mkdir(parents=True, exist_ok=True)
        # No dispatcher: the bench's jobs are run by the load generator's POSTs, not by a local process pool. Its
        # thousands of subscribers are all alice: the per-user cable limits are lifted for her.
        self.server = HubServer(
            root,
            redis_url=redis_url,
            redis_prefix=prefix,
            extra="\n".join(
                [
                    "c.MeshProgress.dispatcher = 'none'",
                    "c.MeshProgress.max_connections_per_user = 1_000_000",
                    "c.MeshProgress.max_subscriptions_per_user = 1_000_000",
                    "c.MeshProgress.cable_commands_per_second = 1e9",
                ]
            ),
        )
        self.api = self.server.url + "meshprogress/api/v1/"
        self.ws_url = self.server.ws_url + "?token=alice-token"
        self.info = {"mode": mode, "broadcast_interval": 0.1, "callback_rate_limit": 20.0}

    def start(self) -> Hub:
        self.server.start(timeout=60)
        assert self.server.process is not None
        self.pid = self.server.process.pid
        return self

    def stop(self) -> None:
        self.server.stop()

    def jobs(self, n: int) -> list[Job]:
        """n separate meshes (not a batch: a batch member's callback also updates and publishes its batch)."""
        auth = {"Authorization": "token alice-token"}

        def create(i: int) -> dict[str, Any]:
            return _request(self.api + "meshes", {"source": f"bench-{i}.png", "dispatch": False}, auth)

        with ThreadPoolExecutor(8) as pool:
            records = list(pool.map(create, range(n)))
        return [Job(r["callback"]["url"], r["callback"]["token"], r["job_id"], r["id"]) for r in records]


class Service(System):
    """The JupyterHub service (``python -m meshprogress_nb.service --processes=N``) managed by a real JupyterHub
    (tests/jupyterhub's harness: the documented example config). Workers post to the service's own port, as the
    bare baseline is posted to: the hub's proxy is not what is measured."""

    def __init__(self, root: Path, redis_url: str, prefix: str, processes: int) -> None:
        super().__init__(name=f"service-{processes}", ws_url="")
        self.processes = processes
        self.hub = JupyterHubProcess(
            root,
            users=["alice"],
            groups={},
            redis_url=redis_url,
            redis_prefix=prefix,
            service_args=(f"--processes={processes}",),
        )
        self.direct = f"http://127.0.0.1:{self.hub.service_port}/services/{SERVICE}/"
        self.token = ""
        self.info = {"processes": processes}

    def start(self) -> Service:
        self.hub.start()
        self.token = asyncio.run(self.hub.api_token("alice"))
        self.pid = _service_pid(self.hub)
        return self

    def stop(self) -> None:
        self.hub.stop()

    def jobs(self, n: int) -> list[Job]:
        api, auth = self.direct + "meshprogress/api/v1/meshes", {"Authorization": f"token {self.token}"}

        def create(i: int) -> dict[str, Any]:
            return _request(api, {"source": f"bench-{i}.png", "dispatch": False}, auth)

        with ThreadPoolExecutor(8) as pool:
            records = list(pool.map(create, range(n)))
        url = records[0]["callback"]["url"].replace(self.hub.service_url, self.direct)
        return [Job(url, r["callback"]["token"], r["job_id"], r["id"]) for r in records]


def _service_pid(hub: JupyterHubProcess) -> int:
    """The service process JupyterHub started (with several processes, their parent)."""
    assert hub.process is not None
    for child in psutil.Process(hub.process.pid).children():
        if "meshprogress_nb.service" in child.cmdline():
            return child.pid
    raise RuntimeError("JupyterHub runs no meshprogress service")


class BareTornado(System):
    """bench/baselines/bare_tornado.py: the ingest and fan-out ceilings."""

    def __init__(self, root: Path) -> None:
        port = free_port()
        super().__init__(name="bare-tornado", ws_url=f"ws://127.0.0.1:{port}/cable")
        self.port = port
        self.log = root / "bare-tornado.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BareTornado:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(BENCH / "baselines" / "bare_tornado.py"), str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_http(f"http://127.0.0.1:{self.port}/ingest", self.process, self.log)
        self.pid = self.process.pid
        return self

    def stop(self) -> None:
        _stop(self.process)

    def jobs(self, n: int) -> list[Job]:
        url = f"http://127.0.0.1:{self.port}/ingest"
        return [Job(url, f"token-{i}", f"job-{i}", 1) for i in range(1, n + 1)]

    def broadcast_target(self, job: Job) -> dict[str, Any]:
        return {"url": f"http://127.0.0.1:{self.port}/broadcast", "headers": {}, "fields": {"job_id": job.job_id}}


class ChannelsPeer(System):
    """bench/peers/channels_app on uvicorn (one process) with channels_redis's PubSub layer."""

    def __init__(self, root: Path, redis_url: str, prefix: str) -> None:
        port = free_port()
        super().__init__(name="channels-peer", ws_url=f"ws://127.0.0.1:{port}/cable")
        self.port = port
        self.redis_url = redis_url
        self.prefix = prefix
        self.log = root / "channels-peer.log"
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> str | None:
        """None if the peer can run, else why not."""
        try:
            import channels  # noqa: F401
            import channels_redis  # noqa: F401
            import django  # noqa: F401
            import uvicorn  # noqa: F401
        except ImportError as exc:
            return f"{exc.name} is not installed (pip install -e '.[bench]')"
        return None

    def start(self) -> ChannelsPeer:
        import channels
        import channels_redis
        import django
        import uvicorn

        self.info = {
            "server": f"uvicorn {uvicorn.__version__}",
            "channels": channels.__version__,
            "channels_redis": channels_redis.__version__,
            "django": django.__version__,
            "layer": "channels_redis.pubsub.RedisPubSubChannelLayer",
        }
        env = dict(os.environ, PEER_REDIS_URL=self.redis_url, PEER_PREFIX=self.prefix)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH / "peers"), env.get("PYTHONPATH")]))
        env["DJANGO_SETTINGS_MODULE"] = "channels_app.settings"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "channels_app.asgi:application",
                    "--host=127.0.0.1",
                    f"--port={self.port}",
                    "--log-level=warning",
                    "--no-access-log",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=BENCH / "peers",
            )
        _wait_http(f"http://127.0.0.1:{self.port}/callback", self.process, self.log)
        self.pid = self.process.pid
        return self

    def stop(self) -> None:
        _stop(self.process)

    def jobs(self, n: int) -> list[Job]:
        created = _request(f"http://127.0.0.1:{self.port}/jobs?n={n}", {})["jobs"]
        url = f"http://127.0.0.1:{self.port}/callback"
        return [Job(url, j["token"], j["job_id"], j["mesh_id"]) for j in created]
