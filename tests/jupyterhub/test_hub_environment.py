"""What the extension takes from JupyterHub without a hub running: the workers' URL and the user's identity."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jupyterhub.singleuser.extension import JupyterHubIdentityProvider, JupyterHubUser
from traitlets.config.loader import PyFileConfigLoader

from meshprogress_nb.server.app import callback_base_url
from meshprogress_nb.server.config import MeshProgress
from meshprogress_nb.server.identity import Identity, identity_of
from meshprogress_nb.server.service import BoundedAuthCache
from meshprogress_nb.server.trust import shared_credentials_warning

HUB_ENV = ("JUPYTERHUB_PUBLIC_URL", "JUPYTERHUB_HOST", "JUPYTERHUB_SERVICE_PREFIX")
OWN_URL = "http://127.0.0.1:40123/user/alice/"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    for name in HUB_ENV:
        monkeypatch.delenv(name, raising=False)
    return SimpleNamespace(connection_url=OWN_URL, log=logging.getLogger("test-serverapp"))


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # JupyterHub >= 5 gives each server its full public URL.
        (
            {
                "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
                "JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/user/alice/",
            },
            "https://hub.example.org/user/alice/",
        ),
        (
            {
                "JUPYTERHUB_SERVICE_PREFIX": "/jhub/user/alice/gpu/",
                "JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/jhub/user/alice/gpu/",
            },
            "https://hub.example.org/jhub/user/alice/gpu/",
        ),
        (
            {
                "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
                "JUPYTERHUB_PUBLIC_URL": "https://alice.hub.example.org/user/alice/",
                "JUPYTERHUB_HOST": "https://hub.example.org",
            },
            "https://alice.hub.example.org/user/alice/",
        ),
        (
            {
                "JUPYTERHUB_SERVICE_PREFIX": "/services/meshprogress/",
                "JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/services/meshprogress/",
            },
            "https://hub.example.org/services/meshprogress/",
        ),
        # Older hubs: the public host, and the prefix (which includes the hub's base URL).
        (
            {"JUPYTERHUB_SERVICE_PREFIX": "/jhub/user/alice/", "JUPYTERHUB_HOST": "https://hub.example.org"},
            "https://hub.example.org/jhub/user/alice/",
        ),
        # Set by hand to the hub's root: the prefix is added to the origin, not to the hub's base URL again.
        (
            {
                "JUPYTERHUB_SERVICE_PREFIX": "/jhub/user/alice/",
                "JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/jhub/",
            },
            "https://hub.example.org/jhub/user/alice/",
        ),
    ],
)
def test_callback_base_url_from_the_hubs_environment(
    server: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert callback_base_url(MeshProgress(), server) == expected


def test_without_a_public_url_the_servers_own_address_is_used_and_said(
    server: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # What a hub without c.JupyterHub.public_url gives its servers.
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    monkeypatch.setenv("JUPYTERHUB_PUBLIC_URL", "")
    monkeypatch.setenv("JUPYTERHUB_HOST", "")
    with caplog.at_level(logging.WARNING):
        assert callback_base_url(MeshProgress(), server) == OWN_URL
    assert "c.JupyterHub.public_url" in caplog.text


def test_configured_callback_base_url_wins(server: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    monkeypatch.setenv("JUPYTERHUB_PUBLIC_URL", "https://hub.example.org/user/alice/")
    service = MeshProgress(callback_base_url="https://hub.example.org/services/meshprogress/")
    assert callback_base_url(service, server) == "https://hub.example.org/services/meshprogress/"


def test_identity_is_the_hub_user_with_the_hubs_groups() -> None:
    provider = JupyterHubIdentityProvider()
    user = JupyterHubUser({"name": "carol", "groups": ["mesh-readers", "staff"], "scopes": [], "kind": "user"})
    assert identity_of(user, provider) == Identity(name="carol", groups=frozenset({"mesh-readers", "staff"}))
    assert identity_of(JupyterHubUser({"name": "bob", "scopes": [], "kind": "user"}), provider) == Identity(name="bob")


HUB_SERVER = {"JUPYTERHUB_API_TOKEN": "t", "JUPYTERHUB_USER": "bob"}


@pytest.mark.parametrize(
    ("env", "held"),
    [
        ({**HUB_SERVER, "MESHPROGRESS_SECRET": "s" * 32}, "MESHPROGRESS_SECRET"),
        ({**HUB_SERVER, "MESHPROGRESS_REDIS_URL": "redis://r"}, "MESHPROGRESS_REDIS_URL"),
        (
            {**HUB_SERVER, "MESHPROGRESS_SECRET": "s" * 32, "MESHPROGRESS_REDIS_URL": "redis://r"},
            "MESHPROGRESS_SECRET and MESHPROGRESS_REDIS_URL",
        ),
    ],
)
def test_a_hub_users_server_with_the_shared_credentials_says_what_any_user_can_do(
    env: dict[str, str], held: str
) -> None:
    warning = shared_credentials_warning(env)
    assert warning is not None and held in warning
    assert "any user of this hub can read them" in warning and "trusted-team" in warning


@pytest.mark.parametrize(
    "env",
    [
        {"MESHPROGRESS_SECRET": "s" * 32, "MESHPROGRESS_REDIS_URL": "redis://r"},  # not under JupyterHub
        {**HUB_SERVER, "MESHPROGRESS_SERVICE_URL": "http://hub:10102/services/meshprogress/"},  # forwarding
        {**HUB_SERVER, "JUPYTERHUB_SERVICE_NAME": "meshprogress", "MESHPROGRESS_SECRET": "s" * 32},  # the service
    ],
)
def test_no_warning_where_no_user_code_holds_the_credentials(env: dict[str, str]) -> None:
    assert shared_credentials_warning(env) is None


def test_the_services_auth_cache_keeps_at_most_its_bound_and_drops_the_oldest() -> None:
    cache = BoundedAuthCache(max_age=300, max_entries=3)
    for n in range(5):
        cache[f"token:{n}"] = None if n % 2 else {"name": f"user{n}"}
    assert len(cache) == 3
    assert "token:0" not in cache and "token:1" not in cache
    assert cache["token:4"] == {"name": "user4"} and cache.get("token:3", "gone") is None


def documented_config(monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    """server_extension/jupyterhub_config.py as JupyterHub loads it, with ``env`` in the hub's environment."""
    monkeypatch.setenv("MESHPROGRESS_SECRET", "s" * 32)
    monkeypatch.setenv("MESHPROGRESS_REDIS_URL", "redis://:password@127.0.0.1:6379/0")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    loader = PyFileConfigLoader("jupyterhub_config.py", path=str(Path(__file__).parents[2] / "server_extension"))
    return loader.load_config()


def test_by_default_only_the_service_holds_the_secret_and_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    config = documented_config(monkeypatch)
    service = config.JupyterHub.services[0]
    assert service["environment"]["MESHPROGRESS_SECRET"] == "s" * 32
    assert service["environment"]["MESHPROGRESS_REDIS_URL"] == "redis://:password@127.0.0.1:6379/0"
    spawned = config.Spawner.environment
    spawned = spawned.get_value({}) if hasattr(spawned, "get_value") else spawned
    assert set(spawned) == {"MESHPROGRESS_SERVICE_URL"}
    assert spawned["MESHPROGRESS_SERVICE_URL"] == "http://127.0.0.1:10102/services/meshprogress/"
    assert "access:services!service=meshprogress" in config.Spawner.server_token_scopes
    assert "read:users:groups!user" in config.Spawner.server_token_scopes


def test_the_trusted_team_mode_gives_every_server_the_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    config = documented_config(monkeypatch, MESHPROGRESS_TRUSTED_TEAM="1")
    spawned = config.Spawner.environment
    spawned = spawned.get_value({}) if hasattr(spawned, "get_value") else spawned
    assert set(spawned) == {"MESHPROGRESS_SECRET", "MESHPROGRESS_REDIS_URL"}
    assert "server_token_scopes" not in config.Spawner
    assert shared_credentials_warning({**spawned, **HUB_SERVER}) is not None
