"""The notebooks in notebooks/ run top to bottom (nbval) in kernels that find a real hub by connect()."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from meshprogress_nb.demo import workspace
from support.server import HubServer

pytestmark = pytest.mark.slow  # notebooks executed by nbval with real kernels

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_notebooks_execute_under_nbval(tmp_path: Path) -> None:
    workspace(tmp_path / "work")  # the demo's images, where its notebook finds them
    server = HubServer(tmp_path, extra="c.MeshProgress.pool_size = 1").start()
    try:
        env = {**os.environ, "MESHPROGRESS_SERVER_URL": server.url, "MESHPROGRESS_SERVER_TOKEN": "alice-token"}
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--nbval-lax",
                "-p",
                "no:cacheprovider",
                "-q",
                str(NOTEBOOKS),
                "--rootdir",
                str(NOTEBOOKS),
                "-o",
                "addopts=",
                "--nbval-cell-timeout",
                "600",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,
        )
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert " passed" in run.stdout and "failed" not in run.stdout
    finally:
        server.stop()
