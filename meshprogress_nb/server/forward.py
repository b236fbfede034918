"""A user's server without state: its job API forwarded to the meshprogress JupyterHub service.

Under JupyterHub for users who do not trust each other, only the service holds Redis and the signing secret. The
page and the kernels keep talking to their own server, with its own Jupyter auth; each request the server lets in
is sent on to the service with the server's ``$JUPYTERHUB_API_TOKEN``, which JupyterHub scopes to the server's
owner, so the service sees the hub user and authorizes per job as always. Nothing the user's code can read from
the server lets it act as anyone else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jupyter_server.base.handlers import APIHandler
from tornado import httputil, web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .bodies import BoundedBody
from .callbacks import InvalidInput

CONNECT_TIMEOUT = 10.0
"""Seconds to reach the service."""

REQUEST_TIMEOUT = 300.0
"""Seconds a forwarded request may take in all (a result file is streamed within it)."""

PASSED_BACK = frozenset({"content-type", "content-disposition", "retry-after"})
"""The service's response headers a client sees; the rest (cookies, server, CSP) stay with the service."""

PATH = r"([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*)"
"""An API path below ``api/v1/``: matched on the raw path, so no encoded slash or dot segment gets through."""


@dataclass(frozen=True)
class Upstream:
    """Where the service is and how this server authenticates to it."""

    service_url: str
    token: str
    max_body_bytes: int
    body_timeout: float
    max_frame_bytes: int

    def url(self, path: str) -> str:
        return self.service_url.rstrip("/") + "/meshprogress/" + path


class ForwardHandler(BoundedBody, APIHandler):
    """The authenticated job API: this server's user checked here, the service's answer passed back as is."""

    def initialize(self, upstream: Upstream) -> None:
        self.upstream = upstream

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler's own
        await super().prepare()
        _bound(self, self.upstream)

    def check_xsrf_cookie(self) -> None:
        """Refused only once the bounded body is in (see ``JobsHandler.check_xsrf_cookie``)."""
        self.defer(super().check_xsrf_cookie)

    async def get(self, path: str) -> None:
        await self._forward(path)

    async def post(self, path: str) -> None:
        await self._forward(path)

    async def _forward(self, path: str) -> None:
        if self.current_user is None:  # anonymous, or a hub user without access to this server: as Jupyter says
            return _error(self, 403, "Not allowed on this server")
        await forward(self, self.upstream, path, credentials=True)


class CallbackForwardHandler(BoundedBody):
    """Workers' reports posted to a user's server: sent on with their callback token alone, as the service wants."""

    def initialize(self, upstream: Upstream) -> None:
        self.upstream = upstream

    def prepare(self) -> None:
        _bound(self, self.upstream)

    def check_xsrf_cookie(self) -> None:
        """Token-authenticated: cookies carry no authority here."""

    async def post(self) -> None:
        await forward(self, self.upstream, "mesh_callbacks/progress", credentials=False)


async def forward(handler: BoundedBody, upstream: Upstream, path: str, *, credentials: bool) -> None:
    """Send ``handler``'s request to the service's ``api/v1/<path>`` and stream its answer back."""
    request = handler.request
    if handler.refusal is not None:
        return _error(handler, handler.refusal.status_code, handler.refusal.log_message or "Forbidden")
    if ".." in path.split("/"):
        return _error(handler, 404, "No such API route")
    headers = {name: request.headers[name] for name in ("Content-Type", "Accept") if name in request.headers}
    if credentials:
        headers["Authorization"] = f"token {upstream.token}"
    else:
        headers["X-Callback-Token"] = request.headers.get("X-Callback-Token", "")
    # The client's own credentials stay here: a ?token= of this server's is not the service's business.
    query = urlencode([(k, v) for k, v in parse_qsl(request.query, keep_blank_values=True) if k != "token"])
    url = upstream.url("api/v1/" + path) + (f"?{query}" if query else "")

    def on_header(line: str) -> None:
        if line.startswith("HTTP/"):
            start = httputil.parse_response_start_line(line.strip())
            handler.set_status(start.code, start.reason)
        elif ":" in line:
            name, value = line.split(":", 1)
            if name.strip().lower() in PASSED_BACK:
                handler.set_header(name.strip(), value.strip())

    def on_chunk(chunk: bytes) -> None:
        handler.write(chunk)
        handler.flush()

    try:
        await AsyncHTTPClient().fetch(
            HTTPRequest(
                url,
                method=request.method or "GET",
                headers=headers,
                body=handler.body if request.method == "POST" else None,
                connect_timeout=CONNECT_TIMEOUT,
                request_timeout=REQUEST_TIMEOUT,
                follow_redirects=False,
                header_callback=on_header,
                streaming_callback=on_chunk,
            ),
            raise_error=False,
        )
    except (HTTPClientError, OSError) as exc:
        if handler._headers_written:  # part of a file went out: only a cut connection can say it failed
            handler.request.connection.close()  # type: ignore[union-attr]
            return
        handler.clear()
        timed_out = isinstance(exc, HTTPClientError) and exc.code == 599
        return _error(handler, 504 if timed_out else 502, "Progress service unavailable, try again shortly")
    handler.finish()


def _bound(handler: BoundedBody, upstream: Upstream) -> None:
    """The service's body limit, applied here before anything is read (the error in the service's own words)."""
    try:
        handler.bound_body(upstream.max_body_bytes, upstream.body_timeout)
    except InvalidInput as exc:
        _error(handler, exc.status, str(exc))


def _error(handler: web.RequestHandler, status: int, message: str) -> None:
    handler.set_status(status)
    handler.set_header("Content-Type", "application/json")
    handler.finish(json.dumps({"error": message}))


def forward_handlers(upstream: Upstream, base: str) -> list[tuple[str, type, dict[str, Any]]]:
    """The routes of a forwarding server, under ``base`` (``meshprogress/``); the cable's is added by the app."""
    api = base + "api/v1/"
    args = {"upstream": upstream}
    return [
        (api + "mesh_callbacks/progress", CallbackForwardHandler, args),
        (api + PATH, ForwardHandler, args),
    ]
