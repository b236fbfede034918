"""Who is asking: the hub's :class:`Identity`, and how a Jupyter request's user becomes one."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider


@dataclass(frozen=True)
class Identity:
    """A Jupyter (or JupyterHub) user name and groups."""

    name: str
    groups: frozenset[str] = frozenset()


SINGLE_USER_PROVIDERS = (IdentityProvider, PasswordIdentityProvider)


def local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "jupyter"


def identity_of(user: Any, provider: Any = None) -> Identity | None:
    """The identity of jupyter-server's ``current_user`` (None when unauthenticated).

    A plain Jupyter server (its built-in token/password providers) has one owner but names each token-authenticated
    client a fresh anonymous user: all of them are that owner, so the kernel's REST calls and the browser's cable
    see the same jobs. Providers with real identities (JupyterHub's, or any custom one) are taken at their word;
    under JupyterHub the user model carries the hub's groups, which ``c.MeshProgress.read_groups`` can grant.
    """
    if user is None:
        return None
    if provider is not None and type(provider) in SINGLE_USER_PROVIDERS:
        return Identity(name=local_user())
    name = getattr(user, "username", None) or getattr(user, "name", None)
    if not name:
        return None
    hub_user = getattr(user, "hub_user", None) or {}
    groups = hub_user.get("groups", ()) if isinstance(hub_user, dict) else ()
    return Identity(name=str(name), groups=frozenset(str(g) for g in groups))
