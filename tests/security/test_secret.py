"""A callback-signing secret shorter than 32 bytes is refused from every source: config, command line, environment,
and the runtime file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from traitlets import TraitError
from traitlets.config import Config

from meshprogress_nb.server.config import MeshProgress

WEAK, STRONG = "s" * 31, "s" * 32


def test_weak_secret_from_config_is_refused() -> None:
    config = Config()
    config.MeshProgress.secret = WEAK
    with pytest.raises(TraitError, match="at least 32 bytes"):
        MeshProgress(config=config)
    assert MeshProgress(secret=STRONG).secret == STRONG


def test_weak_secret_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHPROGRESS_SECRET", "s")
    with pytest.raises(TraitError, match="MESHPROGRESS_SECRET must be at least 32 bytes"):
        MeshProgress().secret  # noqa: B018 - the default is computed on first read
    monkeypatch.setenv("MESHPROGRESS_SECRET", STRONG)
    assert MeshProgress().secret == STRONG


def test_weak_secret_in_the_runtime_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MESHPROGRESS_SECRET", raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "meshprogress_secret").write_text("short")
    with pytest.raises(TraitError, match="meshprogress_secret must be at least 32 bytes"):
        MeshProgress().secret  # noqa: B018


def test_weak_secret_on_the_command_line_is_refused() -> None:
    code = (
        "from traitlets.config import Application\n"
        "from meshprogress_nb.server.config import MeshProgress\n"
        "class App(Application):\n"
        "    classes = [MeshProgress]\n"
        "app = App()\n"
        "app.parse_command_line()\n"
        "MeshProgress(parent=app)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "--MeshProgress.secret=short"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode != 0 and "at least 32 bytes" in run.stderr
