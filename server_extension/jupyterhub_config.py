"""Example JupyterHub configuration for meshprogress-nb (see docs/jupyterhub.md).

Every user's server loads the progress hub (the package enables its server extension when installed) and shares
one Redis and one signing secret; the same hub also runs as the service ``/services/meshprogress/``, one stable
URL for workers. Job owners are hub users; the hub's admins and the ``mesh-readers`` group are granted below.

    export MESHPROGRESS_SECRET=$(openssl rand -hex 32)          # the same for every server and the service
    export MESHPROGRESS_REDIS_URL=redis://redis.example.org:6379/0
    export MESHPROGRESS_PUBLIC_URL=https://hub.example.org/     # how workers reach the hub's proxy
    jupyterhub -f server_extension/jupyterhub_config.py

Optional: MESHPROGRESS_REDIS_PREFIX (share a Redis with other applications), MESHPROGRESS_SERVICE_PORT (10102),
MESHPROGRESS_CALLBACKS_TO_SERVICE=1 (jobs created in users' servers tell workers to post to the service).
Add your authenticator and spawner as usual; the tests (tests/jupyterhub/) load this file and add theirs.
"""

import os
import sys

c = get_config()  # noqa: F821 - defined by JupyterHub when it loads this file

PUBLIC_URL = os.environ.get("MESHPROGRESS_PUBLIC_URL", "http://127.0.0.1:8000/")
SERVICE = "meshprogress"
SERVICE_PORT = int(os.environ.get("MESHPROGRESS_SERVICE_PORT", "10102"))
ADMINS = {"admin"}
READ_GROUPS = ["mesh-readers"]

# Servers and services learn their public URL from this ($JUPYTERHUB_PUBLIC_URL): the callback URL a job carries.
c.JupyterHub.public_url = PUBLIC_URL
c.Authenticator.admin_users = ADMINS
c.JupyterHub.load_groups = {group: {"users": []} for group in READ_GROUPS}

# Settings for every process running the hub: the secret and Redis URL through the environment, the rest as options.
environment = {
    "MESHPROGRESS_SECRET": os.environ["MESHPROGRESS_SECRET"],
    "MESHPROGRESS_REDIS_URL": os.environ.get("MESHPROGRESS_REDIS_URL", "redis://127.0.0.1:6379/0"),
}
options = [f"--MeshProgress.redis_prefix={os.environ.get('MESHPROGRESS_REDIS_PREFIX', '')}"]
options += [f"--MeshProgress.admin_users={name}" for name in sorted(ADMINS)]
options += [f"--MeshProgress.read_groups={group}" for group in READ_GROUPS]

c.Spawner.environment.update(environment)
server_options = list(options)
if os.environ.get("MESHPROGRESS_CALLBACKS_TO_SERVICE") == "1":
    server_options.append(f"--MeshProgress.callback_base_url={PUBLIC_URL.rstrip('/')}/services/{SERVICE}/")
c.Spawner.args = server_options

# The service: the same hub code in its own process, started and stopped by JupyterHub, behind its proxy.
c.JupyterHub.services = [
    {
        "name": SERVICE,
        "url": f"http://127.0.0.1:{SERVICE_PORT}",
        "command": [sys.executable, "-m", "meshprogress_nb.service", *options],
        "environment": environment,
        "display": False,
    }
]
# Users may use the service (its API and cable, for their own jobs); admins may already.
c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self", f"access:services!service={SERVICE}"]}]
