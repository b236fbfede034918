"""JupyterLab with the extension, and headless Chromium (Debian's, driven by Playwright) to look at it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .server import free_port, launch_jupyter

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


#: The front end built from this checkout (`cd labextension && jlpm build`).
CHECKOUT_BUILD = Path(__file__).resolve().parents[2] / "meshprogress_nb" / "labextension"


def link_checkout_build(data_dir: Path) -> None:
    """Make the server load this checkout's front end: the user data dir comes before the installed ones."""
    if (CHECKOUT_BUILD / "package.json").exists():
        target = data_dir / "labextensions" / "meshprogress-nb"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.symlink_to(CHECKOUT_BUILD, target_is_directory=True)


class LabServer:
    """``jupyter lab`` on a free loopback port with Jupyter's own token login (one owner, as on a laptop)."""

    def __init__(
        self, root: Path, token: str = "lab-test-token", extra_args: tuple[str, ...] = (), app: str = "jupyterlab"
    ) -> None:
        self.app = app  # or "notebook": Notebook 7
        self.root = root
        self.token = token
        self.port = free_port()
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / "lab.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 120) -> LabServer:  # JupyterLab starts slowly on a busy machine
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(self.root / ".config"),
            "JUPYTER_RUNTIME_DIR": str(self.root / ".runtime"),
            "JUPYTER_DATA_DIR": str(self.root / ".data"),
        }
        link_checkout_build(self.root / ".data")
        for name in ("MESHPROGRESS_REDIS_URL", "MESHPROGRESS_SERVER_URL", "MESHPROGRESS_SERVER_TOKEN"):
            env.pop(name, None)
        self.process = launch_jupyter(
            [
                self.app,
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                "--MeshProgress.pool_size=1",
                "--MeshProgress.max_smooth_iterations=1000000",  # the tests' slow jobs
                *self.extra_args,
            ],
            env=env,
            cwd=self.root,
            log_path=self.log_path,
            ready_url=f"{self.url}api/status?token={self.token}",
            timeout=timeout,
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
