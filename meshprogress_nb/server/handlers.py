"""HTTP handlers: translate requests into calls on :class:`~.hub.ProgressHub` and results into JSON.

Every error leaves as ``{"error": ...}`` with its status; nothing the client sends can produce a 500.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..models import Batch, Mesh, Status, batch_record, mesh_record
from .bodies import BoundedBody
from .callbacks import InvalidInput
from .dispatch import find_preview, find_result
from .errors import EXPECTED, answer_for
from .hub import NotFound, ProgressHub
from .identity import Identity, identity_of
from .openapi import openapi_document
from .pacing import Pacer
from .validation import json_value, text

MAX_SOURCE = 4096
MAX_NAME = 200
MAX_PARAMS = 16 * 1024
MAX_FILENAME = 100
#: Suffixes of a job's default name (its source's file name) dropped from download names.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".npy", ".nii", ".gz", ".nrrd"})


class ErrorsMixin(web.RequestHandler):
    """Maps the hub's exceptions to statuses and writes every error as a JSON object."""

    hub: ProgressHub

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        answer = answer_for(kwargs.get("exc_info", (None, None, None))[1], status_code, self._reason)
        for name, value in answer.headers.items():
            self.set_header(name, value)
        if answer.status == 405:
            self.set_header("Allow", _allowed_methods(self))
        self.set_status(answer.status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(answer.body))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, EXPECTED):
            super().log_exception(typ, value, tb)

    def reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


F = TypeVar("F", bound=Callable[..., Any])


def signed_in(method: F) -> F:
    """``web.authenticated`` for the API: 401 without credentials, 403 without the XSRF token of a cookie
    session, raised when the method would run (after the bounded body: see ``JobsHandler.check_xsrf_cookie``)."""

    @functools.wraps(method)
    def wrapper(self: JobsHandler, *args: Any) -> Any:
        self.who  # noqa: B018 - raises the refusal
        return method(self, *args)

    return cast(F, wrapper)


class JobsHandler(ErrorsMixin, BoundedBody, APIHandler):
    """Base of the authenticated job API."""

    def initialize(self, hub: ProgressHub) -> None:
        self.hub = hub

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler's own
        await super().prepare()
        self.bound_body(self.hub.config.max_body_bytes, self.hub.config.body_timeout)

    @functools.cached_property
    def who(self) -> Identity:
        """The signed-in caller, resolved once per request; raises the refusal kept by ``check_xsrf_cookie``."""
        if self.refusal is not None:
            raise self.refusal
        identity = identity_of(self.current_user, self.identity_provider)
        if identity is None:
            raise _unauthenticated()
        return identity

    def check_xsrf_cookie(self) -> None:
        """401 (log in) for a request with no credentials at all, not 403 for its missing XSRF token.

        Either is raised by :attr:`who` (through :func:`signed_in`) once the bounded body has been read: refused
        before it, the connection would close on the unread body and the client would see a reset, not the answer.
        """
        self.defer(self._check_credentials)

    def _check_credentials(self) -> None:
        if hasattr(self, "_jupyter_current_user") and self.current_user is None:
            raise _unauthenticated()
        super().check_xsrf_cookie()

    def get_login_url(self) -> str:
        """``@web.authenticated`` asks this of anonymous requests: an API answers 401 instead of redirecting."""
        raise _unauthenticated()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 401:
            self.set_header("WWW-Authenticate", "token")
        super().write_error(status_code, **kwargs)

    def page(self, most: int) -> tuple[int, int | None]:
        """``limit`` (1 to ``most``, default ``most``) and ``before`` (an id: the page below it) of a list."""
        limit = self.get_query_argument("limit", None)
        before = self.get_query_argument("before", None)
        count = most if limit is None else _bounded(limit, most)
        if count is None:
            raise InvalidInput(422, f"limit must be an integer from 1 to {most}", "limit")
        below = None if before is None else _bounded(before, 2**62)
        if before is not None and below is None:
            raise InvalidInput(422, "before must be a positive integer (an id)", "before")
        return count, below


class MeshesHandler(JobsHandler):
    @signed_in
    async def get(self) -> None:
        status = self.get_query_argument("status", None)
        try:
            wanted = None if status is None else Status(status)
        except ValueError as exc:
            raise InvalidInput(422, f"unknown status {str(status)[:40]!r}", "status") from exc
        batch_id = self.get_query_argument("batch_id", None)
        limit, before = self.page(200)  # checked with a batch_id too, where the member list does not page
        if batch_id is None:
            meshes = await self.hub.list_meshes(self.who, wanted, limit, before)
            self.reply(200, {"meshes": [mesh_record(m) for m in meshes], "next_before": _next(meshes, limit)})
            return
        meshes = await self.hub.batch_members(self.who, _id(batch_id, "Batch"), wanted)
        self.reply(200, {"meshes": [mesh_record(m) for m in meshes]})

    @signed_in
    async def post(self) -> None:
        data = self.body_dict()
        source = _source(data.get("source"), "source")
        name = _optional_text(data.get("name"), "name", MAX_NAME)
        params = _params(data.get("params"))
        dispatch = _dispatch_flag(data.get("dispatch"))
        mesh = await self.hub.create_mesh(self.who, source, name, params, dispatch=dispatch)
        self.reply(201, {**mesh_record(mesh), "callback": self.hub.callback_for(mesh)})


class MeshHandler(JobsHandler):
    @signed_in
    async def get(self, mesh_id: str) -> None:
        mesh = await self.hub.mesh_for(self.who, _id(mesh_id, "Mesh"))
        self.reply(200, mesh_record(mesh))


class MeshActionHandler(JobsHandler):
    @signed_in
    async def post(self, mesh_id: str, action: str) -> None:
        if action == "cancel":
            mesh = await self.hub.cancel(self.who, _id(mesh_id, "Mesh"))
            self.reply(200, mesh_record(mesh))
        else:
            mesh = await self.hub.retry(self.who, _id(mesh_id, "Mesh"))
            self.reply(200, {**mesh_record(mesh), "callback": self.hub.callback_for(mesh)})


class MeshFileHandler(JobsHandler):
    """Sends one of a job's files (for those who may read the job), named after the job."""

    disposition = "attachment"
    noun = "result"

    def find(self, mesh: Mesh) -> Path | None:
        raise NotImplementedError

    async def locate(self, mesh_id: str) -> tuple[Mesh, Path]:
        mesh = await self.hub.mesh_for(self.who, _id(mesh_id, "Mesh"))
        path = self.find(mesh)
        if path is None:  # the job exists, so not 404: its file is not written (yet), or was not written here
            raise InvalidInput(409, f"Mesh {mesh_id} has no {self.noun} file ({mesh.status.value})")
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Length", str(path.stat().st_size))
        self.set_header("Content-Disposition", content_disposition(self.disposition, mesh, path))
        return mesh, path

    @signed_in
    async def head(self, mesh_id: str) -> None:
        await self.locate(mesh_id)
        self.finish()

    @signed_in
    async def get(self, mesh_id: str) -> None:
        _, path = await self.locate(mesh_id)
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                self.write(chunk)
                await self.flush()
        self.finish()


class MeshResultHandler(MeshFileHandler):
    """The mesh file a dispatched job wrote."""

    def find(self, mesh: Mesh) -> Path | None:
        return find_result(Path(self.hub.config.results_dir), mesh)


class MeshPreviewHandler(MeshFileHandler):
    """What a browser draws: the worker's decimated ``.preview.ply``, else a small enough result itself."""

    disposition = "inline"
    noun = "preview"

    def find(self, mesh: Mesh) -> Path | None:
        return find_preview(Path(self.hub.config.results_dir), mesh, self.hub.config.preview_max_bytes)


class BatchesHandler(JobsHandler):
    @signed_in
    async def get(self) -> None:
        limit, before = self.page(100)
        batches = await self.hub.list_batches(self.who, limit, before)
        self.reply(200, {"batches": [batch_record(b) for b in batches], "next_before": _next(batches, limit)})

    @signed_in
    async def post(self) -> None:
        data = self.body_dict()
        sources = data.get("sources")
        if not isinstance(sources, list) or not sources:
            raise InvalidInput(422, "sources must be a non-empty list of strings", "sources")
        if len(sources) > self.hub.config.max_batch_size:
            raise InvalidInput(422, f"a batch holds at most {self.hub.config.max_batch_size} sources", "sources")
        for limit in ("max_active_jobs_per_user", "max_jobs_per_minute_per_user"):  # no wait would admit it
            most = getattr(self.hub.config, limit)
            if most and len(sources) > most:
                raise InvalidInput(422, f"a batch holds at most {most} sources ({limit})", "sources")
        checked = [_source(s, "sources") for s in sources]
        name = _optional_text(data.get("name"), "name", MAX_NAME)
        params = _params(data.get("params"))
        dispatch = _dispatch_flag(data.get("dispatch"))
        batch, meshes = await self.hub.create_batch(self.who, checked, name, params, dispatch=dispatch)
        self.set_status(201)
        self.set_header("Content-Type", "application/json")
        self.finish(await created_batch_body(self.hub, batch, meshes))


class BatchHandler(JobsHandler):
    @signed_in
    async def get(self, batch_id: str) -> None:
        batch = await self.hub.batch_for(self.who, _id(batch_id, "Batch"))
        self.reply(200, batch_record(batch))


class BatchActionHandler(JobsHandler):
    @signed_in
    async def post(self, batch_id: str, action: str) -> None:
        if action == "cancel":
            batch = await self.hub.cancel_batch(self.who, _id(batch_id, "Batch"))
        else:
            batch = await self.hub.retry_batch(self.who, _id(batch_id, "Batch"))
        self.reply(200, batch_record(batch))


class OpenAPIHandler(JobsHandler):
    @signed_in
    def get(self) -> None:
        self.reply(200, openapi_document())


class NotFoundHandler(ErrorsMixin, web.RequestHandler):
    """Anything else under the API prefix: a JSON 404, not the server's HTML page."""

    def initialize(self, hub: ProgressHub) -> None:
        self.hub = hub

    def check_xsrf_cookie(self) -> None:
        """Nothing here acts on the request."""

    def prepare(self) -> None:
        raise web.HTTPError(404, "No such API route")


def _id(value: str, kind: str) -> int:
    """A path id; anything but a positive integer names nothing (404, like an unknown id)."""
    if not (value.isascii() and value.isdigit()) or len(value) > 18 or int(value) == 0:
        raise NotFound(f"{kind} {value[:40]} not found")
    return int(value)


def _source(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SOURCE:
        raise InvalidInput(422, f"{field} must be a non-empty path or URL of at most {MAX_SOURCE} characters", field)
    return text(value, field)


def _bounded(value: str, most: int) -> int | None:
    """A query argument as an integer from 1 to ``most``, else None."""
    if not (value.isascii() and value.isdigit()) or len(value) > 19 or not 1 <= int(value) <= most:
        return None
    return int(value)


def _next(records: list[Any], limit: int) -> int | None:
    """The ``before`` of the next page: the last id of a full page (more may follow), else None."""
    return records[-1].id if len(records) == limit else None


def _optional_text(value: Any, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(422, f"{field} must be a string of at most {limit} characters", field)
    return text(value, field)


def _params(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(422, f"params must be an object of at most {MAX_PARAMS} bytes of JSON", "params")
    json_value(value, "params")
    if len(json.dumps(value)) > MAX_PARAMS:
        raise InvalidInput(422, f"params must be an object of at most {MAX_PARAMS} bytes of JSON", "params")
    return value


def _dispatch_flag(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        raise InvalidInput(422, "dispatch must be true or false", "dispatch")
    return value


def _unauthenticated() -> web.HTTPError:
    return web.HTTPError(401, "Not authenticated")


def _allowed_methods(handler: web.RequestHandler) -> str:
    """The methods ``handler`` implements, for the ``Allow`` header a 405 must carry (RFC 9110)."""
    return ", ".join(
        method
        for method in handler.SUPPORTED_METHODS
        if getattr(type(handler), method.lower(), None) is not getattr(web.RequestHandler, method.lower(), None)
    )


async def created_batch_body(hub: ProgressHub, batch: Batch, meshes: list[Mesh]) -> bytes:
    """The 201 body of a new batch (every member with its callback), encoded in slices: 10,000 members are
    megabytes of JSON and thousands of signed tokens."""
    pace = Pacer()
    parts = []
    for mesh in meshes:
        parts.append(json.dumps({**mesh_record(mesh), "callback": hub.callback_for(mesh)}))
        await pace()
    head = json.dumps({**batch_record(batch), "meshes": []})[:-3]  # all but the members' "[]}"
    return f"{head}[{','.join(parts)}]}}".encode()


def download_name(mesh: Mesh, path: Path) -> str:
    """The job's name in safe characters plus the file's suffixes: ``terrain (single)`` -> ``terrain_single.ply``."""
    stem = mesh.name
    while Path(stem).suffix.lower() in IMAGE_SUFFIXES:
        stem = stem[: -len(Path(stem).suffix)]
    safe = re.sub(r"[^A-Za-z0-9-]+", "_", stem).strip("_-")[:MAX_FILENAME] or f"mesh-{mesh.id}"
    suffix = ".preview.ply" if path.name.endswith(".preview.ply") else path.suffix
    return safe + suffix


def content_disposition(disposition: str, mesh: Mesh, path: Path) -> str:
    return f'{disposition}; filename="{download_name(mesh, path)}"'


def handlers(hub: ProgressHub, base: str) -> list[tuple[str, type, dict[str, Any]]]:
    """The job API's routes, under ``base`` (``meshprogress/``, relative to the server's base URL); the
    callback route is :mod:`.callback_route`'s."""
    api = base + "api/v1/"
    args = {"hub": hub}
    return [
        (api + "meshes", MeshesHandler, args),
        (api + r"meshes/([^/]+)", MeshHandler, args),
        (api + r"meshes/([^/]+)/(cancel|retry)", MeshActionHandler, args),
        (api + r"meshes/([^/]+)/result", MeshResultHandler, args),
        (api + r"meshes/([^/]+)/preview", MeshPreviewHandler, args),
        (api + "batches", BatchesHandler, args),
        (api + r"batches/([^/]+)", BatchHandler, args),
        (api + r"batches/([^/]+)/(cancel|retry)", BatchActionHandler, args),
        (api + "openapi.json", OpenAPIHandler, args),
        (api + ".*", NotFoundHandler, args),
    ]
