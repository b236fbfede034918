"""Wires the hub into a running Jupyter server: configuration, backend, routes and start-up."""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import urlsplit

from jupyter_server.utils import url_path_join
from tornado.routing import PathMatches, Rule

from .backends import make_backend
from .cable.connection import CableHandler
from .cable.server import CableServer
from .config import MeshProgress
from .dispatch import Dispatch, make_dispatcher
from .fanout import FanOut
from .handlers import CallbackHandler, handlers
from .hub import ProgressHub
from .tokens import CallbackTokens

SETTINGS_KEY = "meshprogress"


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


def _route_first(web_app: Any, route: tuple[str, type, dict[str, Any]]) -> None:
    """Match ``route`` before every other rule of the server.

    Tornado tries rules in order, and jupyter-server and the other extensions register a few dozen before
    ours. Workers post thousands of callbacks a second: for that one route the scan is a measurable share of a
    callback's cost (about 5 % of ingest in bench/run.py).
    """
    router = web_app.default_router
    path, handler, kwargs = route
    router.rules.insert(0, router.process_rule(Rule(PathMatches(path), handler, kwargs)))


def _load_jupyter_server_extension(serverapp: Any) -> None:
    _use_server_log(serverapp)
    config = MeshProgress(parent=serverapp)
    backend = make_backend(config)
    tokens = CallbackTokens(config.secret, config.token_max_age)
    base = url_path_join(serverapp.web_app.settings["base_url"], "meshprogress/")
    hub = ProgressHub(config, backend, tokens, callback_url="", api_path=base + "api/v1/")
    fanout = FanOut(backend, config.broadcast_interval, hub.stream_payload)
    cable = CableServer(hub, fanout, config)
    routes: list[Any] = handlers(hub, base)
    routes.append((base + "cable", CableHandler, {"cable": cable}))
    serverapp.web_app.add_handlers(".*$", [route for route in routes if route[1] is not CallbackHandler])
    _route_first(serverapp.web_app, next(route for route in routes if route[1] is CallbackHandler))
    dispatcher = make_dispatcher(config)
    if dispatcher is not None:
        Dispatch(hub, dispatcher, serverapp.root_dir, config.results_dir)
    serverapp.web_app.settings[SETTINGS_KEY] = {"hub": hub, "cable": cable, "dispatcher": dispatcher}
    mode = (
        f"Redis at {config.redis_url.rpartition('@')[2]}" if config.redis_url else f"embedded ({config.database_path})"
    )
    serverapp.log.info("meshprogress: hub at %s, state: %s", base, mode)


async def _start_jupyter_server_extension(serverapp: Any) -> None:
    parts = serverapp.web_app.settings[SETTINGS_KEY]
    hub: ProgressHub = parts["hub"]
    hub.callback_url = url_path_join(
        callback_base_url(hub.config, serverapp), "meshprogress/api/v1/mesh_callbacks/progress"
    )
    await hub.start()
    if parts["dispatcher"] is not None:
        await parts["dispatcher"].start()
    parts["cable"].start()
    # Kernels inherit the server's environment: this is how meshprogress_nb.connect() finds its hub.
    os.environ["MESHPROGRESS_SERVER_URL"] = serverapp.connection_url
    token = getattr(serverapp.identity_provider, "token", "")
    if token:
        os.environ["MESHPROGRESS_SERVER_TOKEN"] = token
