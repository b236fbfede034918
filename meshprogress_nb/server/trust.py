"""The shared-secret deployment under JupyterHub, said out loud: it is only for users who trust each other."""

from __future__ import annotations

from collections.abc import Mapping

SHARED = ("MESHPROGRESS_SECRET", "MESHPROGRESS_REDIS_URL")


def shared_credentials_warning(environ: Mapping[str, str]) -> str | None:
    """The warning for a user's server that JupyterHub started with the hub's credentials in its environment.

    Its kernels inherit that environment. A managed service (``JUPYTERHUB_SERVICE_NAME``) runs no user code, so
    holding them is its job.
    """
    if not environ.get("JUPYTERHUB_API_TOKEN") or environ.get("JUPYTERHUB_SERVICE_NAME"):
        return None
    held = [name for name in SHARED if environ.get(name)]
    if not held:
        return None
    return (
        f"meshprogress: this JupyterHub server has {' and '.join(held)} in its environment, which its kernels "
        "inherit: any user of this hub can read them and then read and change every user's jobs in Redis, sign "
        "callback tokens for any job and publish frames on any job's stream. This is the trusted-team mode; "
        "for users who do not trust each other run the meshprogress service and set MESHPROGRESS_SERVICE_URL "
        "instead (docs/jupyterhub.md)"
    )
