"""HTTP handlers: translate requests into calls on :class:`~.hub.ProgressHub` and results into JSON.

Every error leaves as ``{"error": ...}`` with its status; nothing the client sends can produce a 500.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..models import Status, batch_record, mesh_record
from ..state import Conflict
from .backends import BackendUnavailable
from .callbacks import InvalidInput, parse_body, parse_callback
from .dispatch import find_result
from .hub import Forbidden, Identity, NotFound, ProgressHub
from .identity import identity_of
from .openapi import openapi_document
from .tokens import InvalidToken

MAX_SOURCE = 4096
MAX_NAME = 200
MAX_PARAMS = 16 * 1024


class ErrorsMixin:
    """Maps the hub's exceptions to statuses and writes every error as a JSON object."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        body: dict[str, Any]
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, InvalidInput):
            status_code, body = exc.status, {"error": str(exc)}
            if exc.field:
                body["field"] = exc.field
        elif isinstance(exc, InvalidToken):
            status_code, body = 401, {"error": "Invalid callback token"}
        elif isinstance(exc, Conflict):
            status_code, body = 409, {"error": str(exc), "status": exc.status.value}
        elif isinstance(exc, NotFound):
            status_code, body = 404, {"error": str(exc)}
        elif isinstance(exc, Forbidden):
            status_code, body = 403, {"error": str(exc)}
        elif isinstance(exc, BackendUnavailable):
            status_code, body = 503, {"error": "Progress store unavailable, try again shortly"}
            self.set_header("Retry-After", "1")  # type: ignore[attr-defined]
        elif isinstance(exc, web.HTTPError):
            body = {"error": exc.log_message or self._reason}  # type: ignore[attr-defined]
        else:
            body = {"error": self._reason}  # type: ignore[attr-defined]
        self.set_status(status_code)  # type: ignore[attr-defined]
        self.set_header("Content-Type", "application/json")  # type: ignore[attr-defined]
        self.finish(json.dumps(body))  # type: ignore[attr-defined]

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        expected = (InvalidInput, InvalidToken, Conflict, NotFound, Forbidden, BackendUnavailable, web.HTTPError)
        if isinstance(value, expected):
            return
        super().log_exception(typ, value, tb)  # type: ignore[misc]

    def reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)  # type: ignore[attr-defined]
        self.set_header("Content-Type", "application/json")  # type: ignore[attr-defined]
        self.finish(json.dumps(body))  # type: ignore[attr-defined]

    def body_dict(self) -> dict[str, Any]:
        request = self.request  # type: ignore[attr-defined]
        if len(request.body) > self.hub.config.max_body_bytes:  # type: ignore[attr-defined]
            raise InvalidInput(413, "Request body too large")
        return parse_body(request.body, request.headers.get("Content-Type", "application/json"))


class JobsHandler(ErrorsMixin, APIHandler):
    """Base of the authenticated job API."""

    def initialize(self, hub: ProgressHub) -> None:
        self.hub = hub

    @property
    def who(self) -> Identity:
        identity = identity_of(self.current_user, self.identity_provider)
        if identity is None:
            raise web.HTTPError(403, "Not authenticated")
        return identity

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
    @web.authenticated
    async def get(self) -> None:
        status = self.get_query_argument("status", None)
        try:
            wanted = Status(status) if status else None
        except ValueError as exc:
            raise InvalidInput(422, f"unknown status {status[:40]!r}", "status") from exc
        batch_id = self.get_query_argument("batch_id", None)
        if batch_id is None:
            limit, before = self.page(200)
            meshes = await self.hub.list_meshes(self.who, wanted, limit, before)
            self.reply(200, {"meshes": [mesh_record(m) for m in meshes], "next_before": _next(meshes, limit)})
            return
        meshes = await self.hub.batch_members(self.who, _id(batch_id, "Batch"), wanted)
        self.reply(200, {"meshes": [mesh_record(m) for m in meshes]})

    @web.authenticated
    async def post(self) -> None:
        data = self.body_dict()
        source = _source(data.get("source"), "source")
        name = _optional_text(data.get("name"), "name", MAX_NAME)
        params = _params(data.get("params"))
        dispatch = _dispatch_flag(data.get("dispatch"))
        mesh = await self.hub.create_mesh(self.who, source, name, params, dispatch=dispatch)
        self.reply(201, {**mesh_record(mesh), "callback": self.hub.callback_for(mesh)})


class MeshHandler(JobsHandler):
    @web.authenticated
    async def get(self, mesh_id: str) -> None:
        mesh = await self.hub.mesh_for(self.who, _id(mesh_id, "Mesh"))
        self.reply(200, mesh_record(mesh))


class MeshActionHandler(JobsHandler):
    @web.authenticated
    async def post(self, mesh_id: str, action: str) -> None:
        if action == "cancel":
            mesh = await self.hub.cancel(self.who, _id(mesh_id, "Mesh"))
            self.reply(200, mesh_record(mesh))
        else:
            mesh = await self.hub.retry(self.who, _id(mesh_id, "Mesh"))
            self.reply(200, {**mesh_record(mesh), "callback": self.hub.callback_for(mesh)})


class MeshResultHandler(JobsHandler):
    """The mesh file a dispatched job wrote, for those who may read the job."""

    @web.authenticated
    async def get(self, mesh_id: str) -> None:
        mesh = await self.hub.mesh_for(self.who, _id(mesh_id, "Mesh"))
        path = find_result(Path(self.hub.config.results_dir), mesh)
        if path is None:
            raise NotFound(f"Mesh {mesh_id} has no result file")
        filename = f"{Path(mesh.name).stem or 'mesh'}-{mesh.id}{path.suffix}"
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Disposition", f'attachment; filename="{_header_safe(filename)}"')
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                self.write(chunk)
                await self.flush()
        self.finish()


class BatchesHandler(JobsHandler):
    @web.authenticated
    async def get(self) -> None:
        limit, before = self.page(100)
        batches = await self.hub.list_batches(self.who, limit, before)
        self.reply(200, {"batches": [batch_record(b) for b in batches], "next_before": _next(batches, limit)})

    @web.authenticated
    async def post(self) -> None:
        data = self.body_dict()
        sources = data.get("sources")
        if not isinstance(sources, list) or not sources:
            raise InvalidInput(422, "sources must be a non-empty list of strings", "sources")
        if len(sources) > self.hub.config.max_batch_size:
            raise InvalidInput(422, f"a batch holds at most {self.hub.config.max_batch_size} sources", "sources")
        checked = [_source(s, "sources") for s in sources]
        name = _optional_text(data.get("name"), "name", MAX_NAME)
        params = _params(data.get("params"))
        dispatch = _dispatch_flag(data.get("dispatch"))
        batch, meshes = await self.hub.create_batch(self.who, checked, name, params, dispatch=dispatch)
        record = batch_record(batch)
        record["meshes"] = [{**mesh_record(m), "callback": self.hub.callback_for(m)} for m in meshes]
        self.reply(201, record)


class BatchHandler(JobsHandler):
    @web.authenticated
    async def get(self, batch_id: str) -> None:
        batch = await self.hub.batch_for(self.who, _id(batch_id, "Batch"))
        self.reply(200, batch_record(batch))


class BatchActionHandler(JobsHandler):
    @web.authenticated
    async def post(self, batch_id: str, action: str) -> None:
        if action == "cancel":
            batch = await self.hub.cancel_batch(self.who, _id(batch_id, "Batch"))
        else:
            batch = await self.hub.retry_batch(self.who, _id(batch_id, "Batch"))
        self.reply(200, batch_record(batch))


class CallbackHandler(ErrorsMixin, web.RequestHandler):
    """Workers' progress reports. The token is the only credential: no Jupyter auth, cookies or XSRF."""

    log = logging.getLogger("meshprogress_nb.server.callbacks")
    """Where jupyter-server's ``log_request`` writes this route's access lines: a busy worker fleet posts
    thousands a second, so their 202 lines (debug) are skipped cheaply unless the server runs with --debug."""

    def initialize(self, hub: ProgressHub) -> None:
        self.hub = hub

    def check_xsrf_cookie(self) -> None:
        """Token-authenticated, so cross-site forgery has nothing to borrow: cookies carry no authority here."""

    async def post(self) -> None:
        content_type = self.request.headers.get("Content-Type", "application/json")
        data = self.body_dict()
        job_id, report = parse_callback(data, from_form=content_type.startswith("application/x-www-form-urlencoded"))
        applied = await self.hub.report(self.request.headers.get("X-Callback-Token"), job_id, report)
        self.reply(202, {"status": "accepted", "job_id": job_id, "applied": applied})


class OpenAPIHandler(ErrorsMixin, APIHandler):
    @web.authenticated
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
    return value


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
    return value


def _params(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(json.dumps(value)) > MAX_PARAMS:
        raise InvalidInput(422, f"params must be an object of at most {MAX_PARAMS} bytes of JSON", "params")
    return value


def _dispatch_flag(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        raise InvalidInput(422, "dispatch must be true or false", "dispatch")
    return value


def _header_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def handlers(hub: ProgressHub, base: str) -> list[tuple[str, type, dict[str, Any]]]:
    """The routes, under ``base`` (the server's base_url joined with ``meshprogress/``)."""
    api = base + "api/v1/"
    args = {"hub": hub}
    return [
        (api + "meshes", MeshesHandler, args),
        (api + r"meshes/([^/]+)", MeshHandler, args),
        (api + r"meshes/([^/]+)/(cancel|retry)", MeshActionHandler, args),
        (api + r"meshes/([^/]+)/result", MeshResultHandler, args),
        (api + "batches", BatchesHandler, args),
        (api + r"batches/([^/]+)", BatchHandler, args),
        (api + r"batches/([^/]+)/(cancel|retry)", BatchActionHandler, args),
        (api + "mesh_callbacks/progress", CallbackHandler, args),
        (api + "openapi.json", OpenAPIHandler, {}),
        (api + ".*", NotFoundHandler, args),
    ]
