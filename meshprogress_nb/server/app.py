"""The composition root: the hub's parts built, routed, started and closed as one jupyter-server extension.

:class:`MeshProgressApp` is a jupyter-server ``ExtensionApp``: ``initialize_settings`` builds the parts in
dependency order (backend, tokens, hub, fan-out, cable, dispatcher), ``initialize_handlers`` registers every
route, the server starts them once its loop runs, and ``stop_extension`` closes them in reverse order.
Nothing else builds or holds them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from tornado.routing import PathMatches, Rule

from .backends import make_backend
from .cable.connection import CableHandler
from .cable.forward import CableForwardHandler
from .cable.server import CableServer
from .callback_route import PATH as CALLBACK_PATH
from .callback_route import CallbackRoute
from .clock import LoopClock
from .config import MeshProgress
from .dispatch import Dispatch, Dispatcher, make_dispatcher
from .fanout import FanOut
from .forward import Upstream, forward_handlers
from .handlers import handlers
from .hub import ProgressHub
from .tokens import CallbackTokens
from .trust import shared_credentials_warning

SHUTDOWN_GRACE = 2.0
"""Seconds a stopping server waits for cable clients to answer its close, before closing the rest."""


def callback_base_url(config: MeshProgress, serverapp: Any) -> str:
    """The URL workers post to: configured, else this server's public URL under JupyterHub, else our own.

    JupyterHub gives a spawned server (or a managed service) ``JUPYTERHUB_SERVICE_PREFIX`` (``/user/alice/``,
    the hub's base URL included) and ``JUPYTERHUB_PUBLIC_URL``: the server's full public URL, path included
    (``https://hub.example.org/user/alice/``), empty unless the hub knows its public address
    (``c.JupyterHub.public_url`` or ``subdomain_host``). Hubs before 5.0 give ``JUPYTERHUB_HOST``
    (``https://hub.example.org``, on the same condition) instead. A public URL set by hand to the hub's root gets
    the prefix appended.
    """
    if config.callback_base_url:
        return config.callback_base_url
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "")
    public = os.environ.get("JUPYTERHUB_PUBLIC_URL") or os.environ.get("JUPYTERHUB_HOST", "")
    if public and prefix:
        parts = urlsplit(public)
        if parts.path.rstrip("/").endswith(prefix.rstrip("/")):
            return public
        return url_path_join(f"{parts.scheme}://{parts.netloc}", prefix)
    if prefix:
        serverapp.log.warning(
            "meshprogress: JupyterHub has no public URL, so workers get this server's own address; "
            "set c.JupyterHub.public_url or c.MeshProgress.callback_base_url"
        )
    return serverapp.connection_url


def _use_server_log(serverapp: Any) -> None:
    """Send the package's log lines (``meshprogress_nb.*`` loggers) to the server's own log handlers.

    The level is the server's ``log_level`` (what its handlers let through), not its logger's DEBUG: a line
    below it then costs a level check, not a log record (callbacks' access lines are debug lines).
    """
    package_log = logging.getLogger("meshprogress_nb")
    package_log.setLevel(serverapp.log_level)
    package_log.propagate = False
    for handler in serverapp.log.handlers:
        if handler not in package_log.handlers:
            package_log.addHandler(handler)


def _route_first(web_app: Any, path: str, target: CallbackRoute) -> None:
    """Match ``path`` to ``target`` before every other rule of the server.

    Tornado tries rules in order, and jupyter-server and the other extensions register a few dozen before
    ours. Workers post thousands of callbacks a second: for that one route the scan is a measurable share of a
    callback's cost (about 5 % of ingest in bench/run.py).
    """
    router = web_app.default_router
    router.rules.insert(0, router.process_rule(Rule(PathMatches(path), target)))


@dataclass
class Parts:
    """What the extension built, in the order it starts them."""

    config: MeshProgress
    hub: ProgressHub
    fanout: FanOut
    cable: CableServer
    dispatcher: Dispatcher | None

    async def start(self) -> None:
        await self.hub.start()
        if self.dispatcher is not None:
            await self.dispatcher.start()
        self.cable.start()

    async def stop(self) -> None:
        """Close in reverse order: clients told to reconnect first, the store last (pending reports written)."""
        await self.cable.shutdown(SHUTDOWN_GRACE)
        if self.dispatcher is not None:
            await self.dispatcher.close()
        await self.hub.close()


def build(config: MeshProgress, *, base_url: str, root_dir: str, callback_url: Any) -> Parts:
    """Every part of the hub, in dependency order; ``callback_url()`` is read when a job is created."""
    clock = LoopClock()
    backend = make_backend(config)
    tokens = CallbackTokens(config.secret, config.token_max_age)
    hub = ProgressHub(
        config, backend, tokens, api_path=api_base(base_url) + "api/v1/", callback_url=callback_url, clock=clock
    )
    fanout = FanOut(backend, config.broadcast_interval, hub.stream_payload, clock)
    cable = CableServer(hub, fanout, config)
    dispatcher = make_dispatcher(config)
    if dispatcher is not None:
        Dispatch(hub, dispatcher, root_dir, config.results_dir)
    return Parts(config, hub, fanout, cable, dispatcher)


def forwarding(config: MeshProgress) -> Upstream:
    """The service this server forwards to, reached with the server's own hub token (scoped to its user)."""
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    if not token:
        raise RuntimeError("MeshProgress.service_url is set but this server has no $JUPYTERHUB_API_TOKEN")
    return Upstream(config.service_url, token, config.max_body_bytes, config.body_timeout, config.max_frame_bytes)


def api_base(base_url: str) -> str:
    return url_path_join(base_url, "meshprogress/")


class MeshProgressApp(ExtensionApp):
    """The progress hub as a jupyter-server extension (``jpserver_extensions = {"meshprogress_nb": True}``)."""

    name = "meshprogress_nb"
    load_other_extensions = True
    parts: Parts | None = None
    upstream: Upstream | None = None

    def initialize_settings(self) -> None:
        serverapp = self.serverapp
        assert serverapp is not None
        _use_server_log(serverapp)
        config = MeshProgress(parent=serverapp)
        if config.service_url:  # JupyterHub, users who do not trust each other: the service holds everything
            self.upstream = forwarding(config)
            serverapp.log.info("meshprogress: forwarding to the service at %s", config.service_url)
            return
        if warning := shared_credentials_warning(os.environ):
            serverapp.log.warning(warning)
        self.parts = build(
            config,
            base_url=serverapp.base_url,
            root_dir=serverapp.root_dir,
            callback_url=lambda: url_path_join(callback_base_url(config, serverapp), CALLBACK_PATH),
        )
        mode = (
            f"Redis at {config.redis_url.rpartition('@')[2]}"
            if config.redis_url
            else f"embedded ({config.database_path})"
        )
        serverapp.log.info("meshprogress: hub at %s, state: %s", api_base(serverapp.base_url), mode)

    def initialize_handlers(self) -> None:
        """Every route, relative to the server's base URL (the ExtensionApp prefixes it)."""
        assert self.serverapp is not None
        if self.upstream is not None:
            self.handlers.extend(forward_handlers(self.upstream, "meshprogress/"))
            self.handlers.append(("meshprogress/cable", CableForwardHandler, {"upstream": self.upstream}))
            return
        assert self.parts is not None
        self.handlers.extend(handlers(self.parts.hub, "meshprogress/"))
        self.handlers.append(("meshprogress/cable", CableHandler, {"cable": self.parts.cable}))
        callbacks = url_path_join(self.serverapp.base_url, CALLBACK_PATH)
        _route_first(self.serverapp.web_app, callbacks, CallbackRoute(self.parts.hub))

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        if self.parts is not None:
            await self.parts.start()
        # Kernels inherit the server's environment: this is how meshprogress_nb.connect() finds its hub.
        os.environ["MESHPROGRESS_SERVER_URL"] = serverapp.connection_url
        token = getattr(serverapp.identity_provider, "token", "")
        if token:
            os.environ["MESHPROGRESS_SERVER_TOKEN"] = token

    async def stop_extension(self) -> None:
        if self.parts is not None:
            await self.parts.stop()
