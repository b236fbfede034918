"""Who a Jupyter request speaks for, as the hub's :class:`~.hub.Identity`."""

from __future__ import annotations

from typing import Any

from .hub import Identity


def identity_of(user: Any) -> Identity | None:
    """The identity of jupyter-server's ``current_user`` (None when unauthenticated).

    Under JupyterHub the user model carries the hub's groups, which ``c.MeshProgress.read_groups`` can grant.
    """
    if user is None:
        return None
    name = getattr(user, "username", None) or getattr(user, "name", None)
    if not name:
        return None
    hub_user = getattr(user, "hub_user", None) or {}
    groups = hub_user.get("groups", ()) if isinstance(hub_user, dict) else ()
    return Identity(name=str(name), groups=frozenset(str(g) for g in groups))
