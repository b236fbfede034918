"""A real JupyterHub on loopback ports: the hub, its proxy (configurable-http-proxy from npm) and local servers.

The hub loads the documented example, ``server_extension/jupyterhub_config.py``, and adds what a test needs: ports,
a dummy authenticator, the local-process spawner, and an admin service token to drive the hub's REST API. The
secret and ``redis_url`` (with its password) go to the hub's environment, where the example gives them to the
meshprogress service only.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx

from support.lab import link_checkout_build
from support.requirements import missing
from support.server import free_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
NODE_DIR = HERE / "node"
EXAMPLE_CONFIG = REPO / "server_extension" / "jupyterhub_config.py"
PASSWORD = "meshprogress-test-password"
SERVICE = "meshprogress"


def proxy_command() -> str:
    """configurable-http-proxy, installed from tests/jupyterhub/node/package-lock.json on first use."""
    binary = NODE_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
    if not binary.exists():
        if shutil.which("npm") is None:
            missing("Node.js and npm (configurable-http-proxy)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300)
    return str(binary)


class JupyterHubProcess:
    """``jupyterhub`` in its own process group; ``stop()`` lets it stop its proxy, servers and service."""

    def __init__(
        self,
        root: Path,
        *,
        users: list[str],
        groups: dict[str, list[str]],
        redis_url: str,
        redis_prefix: str,
        service_args: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        self.service_args = service_args
        self.users = users
        self.groups = groups
        self.redis_url = redis_url
        self.redis_prefix = redis_prefix
        self.port, self.proxy_api_port, self.hub_port, self.service_port = (free_port() for _ in range(4))
        self.admin_token = secrets.token_hex(24)
        self.secret = secrets.token_urlsafe(32)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / "jupyterhub.log"
        root.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """The hub's public URL: everything, the hub, users' servers and the service, goes through the proxy."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def service_url(self) -> str:
        return f"{self.url}services/{SERVICE}/"

    def user_url(self, name: str) -> str:
        return f"{self.url}user/{name}/"

    def home(self, name: str) -> Path:
        """The user's home, their server's working and root directory."""
        return self.root / "home" / name

    def _config(self) -> Path:
        # The service reads no personal Jupyter config: it gets directories of its own.
        service_dirs = {
            f"JUPYTER_{kind.upper()}_DIR": str(self.root / "service-jupyter" / kind)
            for kind in ("config", "data", "runtime")
        }
        lines = [
            "c = get_config()  # noqa: F821",
            f"load_subconfig({str(EXAMPLE_CONFIG)!r})  # noqa: F821",
            f"c.JupyterHub.bind_url = {self.url!r}",
            "c.JupyterHub.hub_ip = '127.0.0.1'",
            f"c.JupyterHub.hub_port = {self.hub_port}",
            f"c.ConfigurableHTTPProxy.command = [{proxy_command()!r}]",
            f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{self.proxy_api_port}'",
            f"c.JupyterHub.db_url = {'sqlite:///' + str(self.root / 'jupyterhub.sqlite')!r}",
            f"c.JupyterHub.cookie_secret_file = {str(self.root / 'cookie_secret')!r}",
            "c.JupyterHub.authenticator_class = 'dummy'",
            f"c.DummyAuthenticator.password = {PASSWORD!r}",
            f"c.Authenticator.allowed_users = {set(self.users)!r}",
            f"c.JupyterHub.load_groups = {{g: {{'users': u}} for g, u in {self.groups!r}.items()}}",
            "c.JupyterHub.spawner_class = 'jupyterhub.spawner.SimpleLocalProcessSpawner'",
            f"c.SimpleLocalProcessSpawner.home_dir_template = {str(self.home('{username}'))!r}",
            f"c.Spawner.cmd = [{sys.executable!r}, '-m', 'jupyterhub.singleuser']",
            # The tests run as root: jupyter-server refuses that unless told.
            "c.Spawner.args.append('--allow-root')",
            "c.JupyterHub.services[0]['command'].append('--allow-root')",
            f"c.JupyterHub.services[0]['command'].extend({list(self.service_args)!r})",
            "c.JupyterHub.services[0]['timeout'] = 120  # a jupyter-server on a busy machine",
            "c.Spawner.start_timeout = 120",
            "c.Spawner.http_timeout = 120",
            f"c.JupyterHub.services[0]['environment'].update({service_dirs!r})",
            f"c.JupyterHub.services.append({{'name': 'test-admin', 'api_token': {self.admin_token!r}}})",
            "c.JupyterHub.load_roles.append({'name': 'test-admin', 'services': ['test-admin'], 'scopes': "
            "['admin:users', 'admin:servers', 'tokens', 'admin:groups']})",
        ]
        path = self.root / "jupyterhub_config.py"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self, timeout: float = 120.0) -> JupyterHubProcess:
        for name in self.users:
            # Users' JupyterLab loads this checkout's front end: their servers' HOME holds their Jupyter data dir.
            link_checkout_build(self.home(name) / ".local" / "share" / "jupyter")
        env = dict(os.environ)
        env.update(
            # This checkout, not whichever copy is installed: the servers and the service inherit PYTHONPATH.
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
            MESHPROGRESS_SECRET=self.secret,
            MESHPROGRESS_REDIS_URL=self.redis_url,
            MESHPROGRESS_REDIS_PREFIX=self.redis_prefix,
            MESHPROGRESS_PUBLIC_URL=self.url,
            MESHPROGRESS_SERVICE_PORT=str(self.service_port),
            CONFIGPROXY_AUTH_TOKEN=secrets.token_hex(24),
        )
        for name in ("MESHPROGRESS_CALLBACKS_TO_SERVICE", "MESHPROGRESS_TRUSTED_TEAM", "MESHPROGRESS_SERVICE_URL"):
            env.pop(name, None)  # the documented default deployment, whatever the caller's environment says
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process for its lifetime
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(self._config())],
            cwd=self.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a failed stop can still end the proxy and servers
        )
        deadline = time.monotonic() + timeout
        self._wait_for(self.url + "hub/api", {200}, deadline)
        # The service answers for itself (403 without credentials) once it is up and routed by the proxy.
        self._wait_for(self.service_url + "meshprogress/api/v1/openapi.json", {401, 403}, deadline)
        return self

    def _wait_for(self, url: str, statuses: set[int], deadline: float) -> None:
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited:\n{self.log()[-6000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            if status in statuses:
                return
            time.sleep(0.2)
        raise TimeoutError(f"{url} did not answer {sorted(statuses)}:\n{self.log()[-6000:]}")

    def stop(self) -> None:
        """Stop the hub, which stops its proxy, servers and service; end any of them a failed hub left behind."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for pid in self._strays():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue

    def _strays(self) -> list[int]:
        """Processes still working in this hub's directory: the proxy, servers and service run in their own sessions."""
        root = self.root.resolve()
        found = []
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                cwd = Path(os.readlink(entry / "cwd"))
            except OSError:
                continue
            if cwd == root or root in cwd.parents:
                found.append(int(entry.name))
        return found

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    # -- the hub's REST API, as the test's admin service ------------------------------------------------------

    def admin(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url + "hub/api/", headers={"Authorization": f"token {self.admin_token}"}, timeout=30
        )

    async def api_token(self, name: str) -> str:
        """A new API token of ``name``, with all of the user's own permissions."""
        async with self.admin() as api:
            response = await api.post(f"users/{name}/tokens", json={"note": "meshprogress e2e", "expires_in": 3600})
            assert response.status_code == 201, response.text
            return response.json()["token"]

    async def spawn(self, *names: str, timeout: float = 120.0) -> None:
        """Start the users' servers together and wait until the hub reports each ready."""
        async with self.admin() as api:
            # The hub answers a spawn request once the server is up or after a few seconds: ask for all at once.
            for response in await asyncio.gather(*(api.post(f"users/{name}/server") for name in names)):
                assert response.status_code in (201, 202), response.text
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            waiting = set(names)
            while waiting:
                for name in sorted(waiting):
                    model: dict[str, Any] = (await api.get(f"users/{name}")).json()
                    server = model.get("servers", {}).get("")
                    if server and server.get("ready"):
                        waiting.discard(name)
                    elif not model.get("pending") and not server:
                        raise RuntimeError(f"{name}'s server failed to start:\n{self.log()[-6000:]}")
                if waiting and loop.time() > deadline:
                    raise TimeoutError(f"servers of {sorted(waiting)} not ready:\n{self.log()[-6000:]}")
                await asyncio.sleep(0.2)

    async def login(self, name: str) -> httpx.AsyncClient:
        """A browser-like session of ``name``: hub login form, then OAuth into the user's own server."""
        client = httpx.AsyncClient(base_url=self.url, timeout=30, follow_redirects=True)
        await client.get("hub/login")
        response = await client.post(
            "hub/login",
            data={"username": name, "password": PASSWORD, "_xsrf": client.cookies.get("_xsrf", path="/hub/")},
        )
        assert response.status_code == 200, response.text[:2000]
        assert client.cookies.get("jupyterhub-session-id"), "no hub session cookie"
        return client
