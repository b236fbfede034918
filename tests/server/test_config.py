"""Settings: environment defaults, the generated secret (0600, stable), and the workers' callback URL."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets import TraitError
from traitlets.config import Config

from meshprogress_nb.server.app import callback_base_url
from meshprogress_nb.server.config import MeshProgress


def test_environment_gives_redis_url_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHPROGRESS_REDIS_URL", "redis://example:6379/2")
    monkeypatch.setenv("MESHPROGRESS_SECRET", "from-the-environment-0123456789abcdef")
    config = MeshProgress()
    assert config.redis_url == "redis://example:6379/2" and config.secret == "from-the-environment-0123456789abcdef"


def test_config_object_sets_traits() -> None:
    c = Config()
    c.MeshProgress.broadcast_interval = 0.5
    c.MeshProgress.read_users = ["carol"]
    config = MeshProgress(config=c)
    assert config.broadcast_interval == 0.5 and config.read_users == ["carol"]


def test_generated_secret_is_private_and_stable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MESHPROGRESS_SECRET", raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    first, second = MeshProgress().secret, MeshProgress().secret
    assert first == second and len(first) >= 32
    path = tmp_path / "meshprogress_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_short_secrets_are_refused() -> None:
    with pytest.raises(TraitError):
        MeshProgress(secret="short")


def test_callback_url_from_config_jupyterhub_or_server(monkeypatch: pytest.MonkeyPatch) -> None:
    server = SimpleNamespace(connection_url="http://127.0.0.1:8888/lab-base/")
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    monkeypatch.delenv("JUPYTERHUB_PUBLIC_URL", raising=False)
    assert callback_base_url(MeshProgress(), server) == "http://127.0.0.1:8888/lab-base/"
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    monkeypatch.setenv("JUPYTERHUB_PUBLIC_URL", "https://hub.example.org/")
    assert callback_base_url(MeshProgress(), server) == "https://hub.example.org/user/alice/"
    configured = MeshProgress(callback_base_url="https://workers.example.org/x/")
    assert callback_base_url(configured, server) == "https://workers.example.org/x/"


def test_extension_is_enabled_after_install() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=True,
    )
    output = listed.stdout + listed.stderr
    assert "meshprogress_nb" in output and "enabled" in output.split("meshprogress_nb", 1)[1][:40]
