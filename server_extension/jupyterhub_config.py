"""Example JupyterHub configuration for meshprogress-nb (see docs/jupyterhub.md).

The default is for users who do not trust each other: one JupyterHub service, ``/services/meshprogress/``, holds
the state (Redis, with a password only it knows) and the signing secret. Users' servers hold neither: their
extension forwards the job API and the cable to the service with the server's own ``$JUPYTERHUB_API_TOKEN``,
so the service sees the hub user. Job owners are hub users; the hub's admins and ``mesh-readers`` are granted below.

    redis-server --requirepass "$REDIS_PASSWORD" ...              # reachable by the hub's host only
    export MESHPROGRESS_SECRET=$(openssl rand -hex 32)            # the service's alone
    export MESHPROGRESS_REDIS_URL=redis://:$REDIS_PASSWORD@127.0.0.1:6379/0
    export MESHPROGRESS_PUBLIC_URL=https://hub.example.org/       # how workers reach the hub's proxy
    jupyterhub -f server_extension/jupyterhub_config.py

Optional: MESHPROGRESS_REDIS_PREFIX (share a Redis with other applications), MESHPROGRESS_SERVICE_PORT (10102),
MESHPROGRESS_SERVICE_HOST (the address users' servers reach the service at, 127.0.0.1),
MESHPROGRESS_SERVICE_PROCESSES (1: how many service processes share its port, e.g. the hub host's cores).

MESHPROGRESS_TRUSTED_TEAM=1 selects the older mode, for a team whose members trust each other with everything:
every user's server also gets the secret and the Redis URL (so any user's code can read and change every job),
and runs the hub itself; MESHPROGRESS_CALLBACKS_TO_SERVICE=1 then tells workers of jobs created in users' servers to
post to the service. Add your authenticator and spawner as usual; the tests (tests/jupyterhub/) load this file.
"""

import os
import sys

c = get_config()  # noqa: F821 - defined by JupyterHub when it loads this file

PUBLIC_URL = os.environ.get("MESHPROGRESS_PUBLIC_URL", "http://127.0.0.1:8000/")
SERVICE = "meshprogress"
SERVICE_PORT = int(os.environ.get("MESHPROGRESS_SERVICE_PORT", "10102"))
SERVICE_HOST = os.environ.get("MESHPROGRESS_SERVICE_HOST", "127.0.0.1")
TRUSTED_TEAM = os.environ.get("MESHPROGRESS_TRUSTED_TEAM") == "1"
ADMINS = {"admin"}
READ_GROUPS = ["mesh-readers"]

# Servers and services learn their public URL from this ($JUPYTERHUB_PUBLIC_URL): the callback URL a job carries.
c.JupyterHub.public_url = PUBLIC_URL
c.Authenticator.admin_users = ADMINS
c.JupyterHub.load_groups = {group: {"users": []} for group in READ_GROUPS}

# The hub's credentials: the secret and the Redis URL (with its password), for the service through its environment.
credentials = {
    "MESHPROGRESS_SECRET": os.environ["MESHPROGRESS_SECRET"],
    "MESHPROGRESS_REDIS_URL": os.environ.get("MESHPROGRESS_REDIS_URL", "redis://127.0.0.1:6379/0"),
}
options = [f"--MeshProgress.redis_prefix={os.environ.get('MESHPROGRESS_REDIS_PREFIX', '')}"]
options += [f"--MeshProgress.admin_users={name}" for name in sorted(ADMINS)]
options += [f"--MeshProgress.read_groups={group}" for group in READ_GROUPS]

if TRUSTED_TEAM:
    # Every server on Redis with the secret: each user's code can read both (the server logs a warning saying so).
    c.Spawner.environment.update(credentials)
    server_options = list(options)
    if os.environ.get("MESHPROGRESS_CALLBACKS_TO_SERVICE") == "1":
        server_options.append(f"--MeshProgress.callback_base_url={PUBLIC_URL.rstrip('/')}/services/{SERVICE}/")
    c.Spawner.args = server_options
else:
    # Users' servers forward to the service, as their user: their token may reach the service, and the service
    # reads the user's groups from the hub (read_groups, admin_groups).
    c.Spawner.environment.update(
        {"MESHPROGRESS_SERVICE_URL": f"http://{SERVICE_HOST}:{SERVICE_PORT}/services/{SERVICE}/"}
    )
    c.Spawner.server_token_scopes = [
        "users:activity!user",
        "access:servers!server",
        f"access:services!service={SERVICE}",
        "read:users:groups!user",
    ]

# The service: the hub in its own process, started and stopped by JupyterHub, behind its proxy.
c.JupyterHub.services = [
    {
        "name": SERVICE,
        "url": f"http://{SERVICE_HOST}:{SERVICE_PORT}",
        "command": [
            sys.executable,
            "-m",
            "meshprogress_nb.service",
            f"--processes={os.environ.get('MESHPROGRESS_SERVICE_PROCESSES', '1')}",
            *options,
        ],
        "environment": credentials,
        "display": False,
    }
]
# Users may use the service (its API and cable, for their own jobs); admins may already.
c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self", f"access:services!service={SERVICE}"]}]
