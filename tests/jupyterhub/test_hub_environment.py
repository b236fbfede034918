"""What the extension takes from JupyterHub without a hub running: the workers' URL and the user's identity."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from jupyterhub.singleuser.extension import JupyterHubIdentityProvider, JupyterHubUser

from meshprogress_nb.server.app import callback_base_url
from meshprogress_nb.server.config import MeshProgress
from meshprogress_nb.server.identity import Identity, identity_of

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
