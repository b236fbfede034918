"""Runs the front end's unit tests (``jlpm test`` in labextension/) and checks the extension's packaging."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LABEXTENSION = ROOT / "labextension"


def _jlpm() -> list[str]:
    jlpm = shutil.which("jlpm")
    if jlpm is None:
        pytest.skip("jlpm not found (it ships with jupyter-builder / jupyterlab)")
    return [jlpm]


@pytest.mark.timeout(600)
def test_front_end_unit_tests() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (LABEXTENSION / "package.json").exists():
        pytest.skip("labextension sources not present")
    jlpm = _jlpm()
    if not (LABEXTENSION / "node_modules" / "typescript").exists():
        install = subprocess.run([*jlpm, "install"], cwd=LABEXTENSION, capture_output=True, text=True, timeout=540)
        assert install.returncode == 0, install.stdout[-4000:] + install.stderr[-4000:]
    run = subprocess.run([*jlpm, "test"], cwd=LABEXTENSION, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-4000:]
    assert "# fail 0" in run.stdout


def test_labextension_metadata() -> None:
    """The package builds into meshprogress_nb/labextension and shares the widget base with JupyterLab."""
    data = json.loads((LABEXTENSION / "package.json").read_text())
    assert data["name"] == "meshprogress-nb"
    lab = data["jupyterlab"]
    assert lab["outputDir"] == "../meshprogress_nb/labextension"
    assert lab["sharedPackages"]["@jupyter-widgets/base"] == {"bundled": False, "singleton": True}
    assert "@rails/actioncable" in data["dependencies"]
    install = json.loads((LABEXTENSION / "install.json").read_text())
    assert install["packageName"] == "meshprogress-nb"
    assert (LABEXTENSION / "yarn.lock").stat().st_size > 0


def test_built_labextension_is_complete() -> None:
    """After ``pip install .`` or ``jlpm build:prod``: the prebuilt extension JupyterLab loads."""
    built = ROOT / "meshprogress_nb" / "labextension"
    if not built.exists():
        pytest.skip("front end not built here (run `jlpm build:prod` in labextension/)")
    data = json.loads((built / "package.json").read_text())
    load = data["jupyterlab"]["_build"]["load"]
    assert (built / load).exists()
    assert (built / "static" / "style.js").exists()
