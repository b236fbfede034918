"""The headless demo: a server in the background, a batch of real mesh jobs, live progress in the terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import trimesh

from meshprogress_nb.__main__ import main
from meshprogress_nb.demo import run_headless, workspace
from support.server import free_port

pytestmark = pytest.mark.slow  # the demo end to end


def test_headless_demo_meshes_every_sample_and_lists_the_files(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_headless(tmp_path / "demo", out=out) == 0
    text = out.getvalue()
    assert "Submitted batch" in text and "Batch completed: 3 completed, 0 failed" in text
    assert text.count("completed") >= 3  # a line per mesh as it completes
    results = tmp_path / "demo" / ".data" / "meshprogress" / "results"
    files = sorted(f for f in results.glob("*.ply") if ".preview." not in f.name)
    assert len(files) == 3 and all(str(f) in text for f in files)
    assert all(trimesh.load(f).is_watertight for f in files)
    # The real MRI volume, as tetrahedra, with its preview and quality report.
    assert "Head MRI: completed" in text and len(list(results.glob("*.vtu"))) == 1
    assert len(list(results.glob("*.preview.ply"))) == 4


def test_workspace_holds_the_images_and_the_notebook(tmp_path: Path) -> None:
    root = workspace(tmp_path / "w")
    assert len(list((root / "images").glob("*.png"))) == 3
    assert (root / "images" / "head-mri.nii.gz").is_file()
    assert (root / "demo.ipynb").is_file()


def test_command_line_parses_demo_options(tmp_path: Path) -> None:
    assert main(["demo", "--headless", "--dir", str(tmp_path / "cli")]) == 0


def test_the_demo_command_starts_jupyterlab_on_the_demo_workspace(tmp_path: Path) -> None:
    """The README's first command: JupyterLab comes up with the extension and the demo notebook in its root."""
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
        "BROWSER": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "meshprogress_nb", "demo", "--dir", str(tmp_path / "d"), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "JupyterLab did not come up"
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/meshprogress/api/v1/meshes", timeout=5) as response:
            raise AssertionError(f"the API answered without authentication: {response.status}")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401  # the hub is there, and it wants Jupyter's token
        assert (tmp_path / "d" / "demo.ipynb").is_file()
    finally:
        process.terminate()
        process.wait(20)
    with pytest.raises(OSError):  # stopping the demo stopped JupyterLab: nothing is left on the port
        urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=2)
