"""openapi.json stays true: every route is described, and live answers validate against its schemas."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest

from meshprogress_nb.server.callback_route import PATH as CALLBACK_PATH
from meshprogress_nb.server.config import MeshProgress
from meshprogress_nb.server.handlers import handlers
from meshprogress_nb.server.openapi import openapi_document
from support.clients import Api

DOC = openapi_document()
METHODS = ("get", "head", "post", "put", "patch", "delete")


def template(pattern: str) -> str:
    """A handler's route regex as an OpenAPI path template."""
    names = iter(["{mesh_id}", "{batch_id}"] if "meshes" in pattern else ["{batch_id}"])
    path = pattern.removeprefix("/meshprogress/api/v1")
    path = re.sub(r"\(\[\^/\]\+\)", lambda _: next(names), path)
    return path


def routes() -> set[tuple[str, str]]:
    found = {(template("/" + CALLBACK_PATH), "post")}  # served below RequestHandler: POST only
    for pattern, handler, _ in handlers(hub=None, base="/meshprogress/"):  # type: ignore[arg-type]
        if pattern.endswith(".*"):
            continue  # the JSON 404 for everything else
        for method in METHODS:
            if any(method in vars(c) for c in handler.__mro__ if c.__module__.startswith("meshprogress_nb")):
                if "(cancel|retry)" in pattern:
                    found |= {(template(pattern.replace("(cancel|retry)", a)), method) for a in ("cancel", "retry")}
                else:
                    found.add((template(pattern), method))
    return found


def test_every_route_is_described_and_nothing_else() -> None:
    described = {(path, method) for path, item in DOC["paths"].items() for method in item}
    assert described == routes()


def validate(instance: Any, schema: dict[str, Any]) -> None:
    jsonschema.validate(instance, _nullable({**schema, "components": DOC["components"]}))


def _nullable(schema: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema's ``type: [T, "null"]``."""
    if isinstance(schema, dict):
        converted = {k: _nullable(v) for k, v in schema.items() if k != "nullable"}
        if schema.get("nullable"):
            converted["type"] = [schema["type"], "null"]
        return converted
    if isinstance(schema, list):
        return [_nullable(v) for v in schema]
    return schema


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    return DOC["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


async def test_live_answers_match_the_document(alice: Api) -> None:
    served = (await alice.http.get("meshprogress/api/v1/openapi.json")).json()
    assert served["openapi"].startswith("3.") and served["paths"].keys() == DOC["paths"].keys()

    mesh = await alice.create_mesh()
    validate(mesh, response_schema("/meshes", "post", 201))
    validate(
        (await alice.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json(),
        response_schema("/meshes/{mesh_id}", "get", 200),
    )
    accepted = await alice.callback(mesh["callback"], mesh["job_id"], progress=5)
    validate(accepted.json(), response_schema("/mesh_callbacks/progress", "post", 202))
    validate((await alice.http.get("meshprogress/api/v1/meshes")).json(), response_schema("/meshes", "get", 200))
    batch = await alice.create_batch(["a.png"])
    validate(batch, response_schema("/batches", "post", 201))
    validate((await alice.http.get("meshprogress/api/v1/batches")).json(), response_schema("/batches", "get", 200))
    cancelled = await alice.http.post(f"meshprogress/api/v1/meshes/{mesh['id']}/cancel")
    validate(cancelled.json(), response_schema("/meshes/{mesh_id}/cancel", "post", 200))
    conflict = await alice.http.post(f"meshprogress/api/v1/meshes/{mesh['id']}/cancel")
    assert conflict.status_code == 409
    validate(conflict.json(), response_schema("/meshes/{mesh_id}/cancel", "post", 409))
    refused = await alice.callback(mesh["callback"], mesh["job_id"], progress=500)
    validate(refused.json(), response_schema("/mesh_callbacks/progress", "post", 422))


@pytest.mark.parametrize("path", list(DOC["paths"]))
def test_each_path_documents_its_errors(path: str) -> None:
    for operation in DOC["paths"][path].values():
        statuses = set(operation["responses"])
        assert statuses & {"200", "201", "202"}, path
        assert "503" in statuses, path


def test_settings_and_document_agree_on_limits() -> None:
    assert DOC["components"]["schemas"]["ProgressReport"]["properties"]["progress"]["maximum"] == 100
    assert MeshProgress().max_body_bytes >= 1024
