"""The progress hub as a JupyterHub service: ``python -m meshprogress_nb.service [--MeshProgress.option=...]``.

One stable URL for workers (``https://hub.example.org/services/meshprogress/meshprogress/api/v1/...``) whoever
owns the job: with the users' servers on the same Redis and ``secret``, a report posted here is published to
every server, which delivers it to its cable subscribers.

The process is a jupyter-server with exactly two extensions: JupyterHub's single-user extension, which takes the
port, base URL and OAuth client from the ``JUPYTERHUB_*`` environment of a managed service and authenticates
requests with ``HubOAuth`` (tokens and cookies, limited to ``access:services!service=<name>``), and this package's
hub, unchanged. Everything else jupyter-server offers (kernels, contents, terminals) is refused: users may reach
the service, not run code in it.

Run by the supervisor of ``--processes=N`` (:mod:`.processes`), the server binds its port with ``SO_REUSEPORT``
beside its siblings and stops when the supervisor's pipe closes.
"""

from __future__ import annotations

import sys
from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.serverapp import ServerApp
from jupyterhub.services.auth import _ExpiringDict
from jupyterhub.singleuser.extension import JupyterHubSingleUser
from tornado.ioloop import IOLoop
from traitlets import Bool
from traitlets.config import Config

HUB_EXTENSION = "jupyterhub"  # the package whose extension point is JupyterHub's single-user extension

AUTH_CACHE_ENTRIES = 10_000
"""Most hub answers (user model or refusal, per token or cookie) the service remembers."""


class BoundedAuthCache(_ExpiringDict):
    """HubAuth's cache of the hub's answers, with a bound on entries as well as on age.

    HubAuth remembers every token it looked up, refused ones included, for ``cache_max_age`` seconds: without a
    bound a client posting random tokens grows it for as long. Past the bound the oldest entries go first.
    (``HubAuth.cache`` must be an ``_ExpiringDict``; JupyterHub offers no public bounded one.)
    """

    def __init__(self, max_age: float, max_entries: int) -> None:
        super().__init__(max_age)
        self.max_entries = max_entries

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        while len(self.values) > self.max_entries:
            del self[next(iter(self.values))]


class HubOnlyAuthorizer(Authorizer):
    """Refuses every jupyter-server resource; the meshprogress routes authorize per job in the hub itself."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return False


class ServiceServerApp(ServerApp):
    """jupyter-server that can share its port with its siblings (``SO_REUSEPORT``; the kernel spreads the
    connections over them)."""

    reuse_port = Bool(False, help="Bind the port with SO_REUSEPORT (set by the supervisor of --processes)")

    def _find_http_port(self) -> None:
        """The port is JupyterHub's (no retries): probing it without SO_REUSEPORT would find the siblings on it."""
        if not self.reuse_port:
            super()._find_http_port()

    def _bind_http_server_tcp(self) -> bool:
        if not self.reuse_port:
            return super()._bind_http_server_tcp()
        self.http_server.listen(self.port, self.ip, reuse_port=True)
        return True


class ServiceSingleUser(JupyterHubSingleUser):
    """JupyterHub's single-user extension, making a :class:`ServiceServerApp` (the extension itself is JupyterHub's)."""

    serverapp_class = ServiceServerApp


def stop_with_parent(serverapp: ServerApp, fd: int) -> None:
    """Stop the server when the supervisor's end of the pipe closes: the supervisor died, however it died."""

    def parent_gone(fd: int, events: int) -> None:
        IOLoop.current().remove_handler(fd)
        serverapp.log.warning("meshprogress: the service's supervisor is gone: stopping")
        serverapp.stop()

    serverapp.io_loop.add_handler(fd, parent_gone, IOLoop.READ)


def service_config() -> Config:
    """Defaults of the service process; config files and the command line override them."""
    return Config(
        {
            "ServerApp": {
                "authorizer_class": HubOnlyAuthorizer,
                "terminals_enabled": False,
            },
            # Jobs are run by workers elsewhere; a job created through the service is not run by it.
            "MeshProgress": {"dispatcher": "none"},
        }
    )


def main(argv: list[str] | None = None, parent: int | None = None) -> None:
    """Start the service; JupyterHub runs it as a managed service (see docs/jupyterhub.md).

    ``parent``: the supervisor's pipe, when this is one of ``--processes`` copies.
    """
    serverapp = ServiceSingleUser.make_serverapp(jpserver_extensions={HUB_EXTENSION: True, "meshprogress_nb": True})
    assert isinstance(serverapp, ServiceServerApp)
    serverapp.reuse_port = parent is not None
    serverapp.update_config(service_config())
    serverapp.initialize(
        argv=sys.argv[1:] if argv is None else argv,
        starter_extension=JupyterHubSingleUser.name,
        find_extensions=False,
    )
    identity: Any = serverapp.identity_provider  # JupyterHub's, which holds its HubOAuth
    hub_auth = identity.hub_auth
    hub_auth.cache = BoundedAuthCache(hub_auth.cache_max_age, AUTH_CACHE_ENTRIES)
    if parent is not None:
        stop_with_parent(serverapp, parent)
    serverapp.start()
