"""Start and stop real ``jupyter server`` processes with the meshprogress extension loaded."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import TypeVar

import pytest

TESTS = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("MESHPROGRESS_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_jupyter(
    args: list[str], *, env: dict[str, str], cwd: Path, log_path: Path, ready_url: str, timeout: float
) -> subprocess.Popen[bytes]:
    """``python -m <args>`` on loopback, returned once ``ready_url`` answers; killed and raised if it never does."""
    log = open(log_path, "ab")  # noqa: SIM115 - owned by the process for its lifetime
    process = subprocess.Popen(
        [sys.executable, "-m", *args, "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=cwd,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{args[0]} exited:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(ready_url, timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()  # not left running behind a failed test
    process.wait()
    raise TimeoutError(f"{args[0]} did not start:\n{log_path.read_text()[-4000:]}")


class HubServer:
    """One jupyter-server process. ``kill()`` is SIGKILL (no clean shutdown); ``start()`` again restarts it."""

    def __init__(
        self, root: Path, *, redis_url: str = "", redis_prefix: str = "", extra: str = "", port: int | None = None
    ) -> None:
        self.root = root
        self.port = port or free_port()
        self.redis_url = redis_url
        self.redis_prefix = redis_prefix
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None
        for sub in ("config", "runtime", "data", "work"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self.log_path = root / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/meshprogress/cable"

    def _config(self) -> Path:
        path = self.root / "config" / "jupyter_server_config.py"
        path.write_text(
            "\n".join(
                [
                    "c.ServerApp.identity_provider_class = 'support.identity.TokensIdentityProvider'",
                    "c.ServerApp.jpserver_extensions = {'meshprogress_nb': True}",
                    f"c.ServerApp.root_dir = {str(self.root / 'work')!r}",
                    f"c.MeshProgress.redis_url = {self.redis_url!r}",
                    f"c.MeshProgress.redis_prefix = {self.redis_prefix!r}",
                    f"c.MeshProgress.database_path = {str(self.root / 'state.sqlite3')!r}",
                    f"c.MeshProgress.results_dir = {str(self.root / 'data' / 'meshprogress' / 'results')!r}",
                    "c.MeshProgress.secret = 'test-secret-shared-by-servers-0123456789'",
                    "c.MeshProgress.admin_users = ['admin']",
                    self.extra,
                ]
            )
        )
        return path

    def start(self, timeout: float = 120.0) -> HubServer:  # generous: a busy CI machine starts slowly
        env = dict(os.environ)
        env.update(
            # This checkout first: the servers must run the code under test, whatever else is installed.
            PYTHONPATH=os.pathsep.join(filter(None, [str(TESTS.parent), str(TESTS), env.get("PYTHONPATH")])),
            JUPYTER_CONFIG_DIR=str(self.root / "config"),
            JUPYTER_RUNTIME_DIR=str(self.root / "runtime"),
            JUPYTER_DATA_DIR=str(self.root / "data"),
            JUPYTER_PLATFORM_DIRS="1",
        )
        env.pop("MESHPROGRESS_REDIS_URL", None)
        self.process = launch_jupyter(
            [
                "jupyter_server",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--config={self._config()}",
            ],
            env=env,
            cwd=self.root,
            log_path=self.log_path,
            ready_url=self.url + "api/status?token=alice-token",
            timeout=timeout,
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text()


S = TypeVar("S", bound=HubServer)


def on_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str, kind: type[S], extra: str = ""
) -> S:
    """A server (not started) on the backend ``request.param`` names: "embedded", or "redis" under a fresh prefix."""
    root = tmp_path_factory.mktemp(f"{name}-{request.param}")
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    return kind(root, redis_url=url, redis_prefix=f"test-{uuid.uuid4().hex[:8]}:", extra=extra)
