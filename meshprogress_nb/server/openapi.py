"""The OpenAPI 3 description of the hub's HTTP API (served at ``meshprogress/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..links import RESULT_URL_PATTERN

STATUSES = ["pending", "processing", "completed", "failed", "cancelled"]


#: The cursor of the next page of a user's list: the ``before`` to ask for, or null on the last page.
NEXT_BEFORE = {
    "next_before": {
        "type": "integer",
        "nullable": True,
        "description": "Pass as before= for the next page; null when this page is the last",
    }
}


def _paging(most: int) -> list[dict[str, Any]]:
    """The ``limit`` and ``before`` query parameters of a user's list."""
    return [
        {
            "name": "limit",
            "in": "query",
            "description": f"Records per page (default {most})",
            "schema": {"type": "integer", "minimum": 1, "maximum": most},
        },
        {
            "name": "before",
            "in": "query",
            "description": "Only records with a smaller id (the next_before of the previous page)",
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**62},
        },
    ]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _id_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


#: A job's source: a path or URL with something besides whitespace in it.
SOURCE = {"type": "string", "minLength": 1, "maxLength": 4096, "pattern": r"\S"}
NULLABLE_INT = {"type": "integer", "nullable": True}
NULLABLE_STR = {"type": "string", "nullable": True}
# The worker's quality report of a completed job (at most 4 KiB as JSON, finite numbers only); see docs/api.md.
QUALITY = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["surface", "tetrahedra"]},
        "units": {"type": "string"},
        "cells": {"type": "integer"},
        "watertight": {"type": "boolean"},
        "volume": {"type": "number"},
        "surface_area": {"type": "number"},
        "min_angle_deg": {"type": "number"},
        "min_dihedral_deg": {"type": "number"},
    },
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}, "field": {"type": "string"}, "status": {"type": "string"}},
    },
    "QuotaError": {
        "type": "object",
        "required": ["error", "limit", "value"],
        "properties": {
            "error": {"type": "string"},
            "limit": {"type": "string", "enum": ["max_active_jobs_per_user", "max_jobs_per_minute_per_user"]},
            "value": {"type": "integer", "description": "The limit's value"},
        },
    },
    "Callback": {
        "type": "object",
        "required": ["url", "token"],
        "properties": {"url": {"type": "string"}, "token": {"type": "string"}},
    },
    "Mesh": {
        "type": "object",
        "required": ["id", "mesh_id", "status", "progress", "version", "job_id", "user", "source"],
        "properties": {
            "id": {"type": "integer"},
            "mesh_id": {"type": "integer"},
            "job_id": {"type": "string"},
            "user": {"type": "string"},
            "batch_id": NULLABLE_INT,
            "source": {"type": "string"},
            "name": {"type": "string"},
            "params": {"type": "object"},
            "status": {"type": "string", "enum": STATUSES},
            "progress": {"type": "number", "minimum": 0, "maximum": 100},
            "message": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": {"type": "string", "format": "date-time", "nullable": True},
            "updated_at": {"type": "string", "format": "date-time"},
            "estimated_remaining": NULLABLE_INT,
            "result_url": NULLABLE_STR,
            "quality": {**QUALITY, "nullable": True},
            "version": {"type": "integer"},
            "attempt": {"type": "integer"},
            "callback": _ref("Callback"),
        },
    },
    "Batch": {
        "type": "object",
        "required": ["id", "batch_id", "total", "completed", "failed", "progress", "status", "version"],
        "properties": {
            "id": {"type": "integer"},
            "batch_id": {"type": "integer"},
            "user": {"type": "string"},
            "name": {"type": "string"},
            "total": {"type": "integer"},
            **{name: {"type": "integer"} for name in STATUSES},
            "progress": {"type": "number", "minimum": 0, "maximum": 100},
            "status": {"type": "string", "enum": STATUSES},
            "estimated_remaining": NULLABLE_INT,
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "version": {"type": "integer"},
            "mesh_ids": {"type": "array", "items": {"type": "integer"}},
            "meshes": {"type": "array", "items": _ref("Mesh")},
        },
    },
    "NewMesh": {
        "type": "object",
        "required": ["source"],
        "properties": {
            "source": SOURCE,
            "name": {"type": "string", "maxLength": 200, "nullable": True},
            "params": {"type": "object", "nullable": True, "description": "finite numbers only"},
            "dispatch": {"type": "boolean", "default": True, "nullable": True},
        },
    },
    "NewBatch": {
        "type": "object",
        "required": ["sources"],
        "properties": {
            "sources": {"type": "array", "minItems": 1, "items": SOURCE},
            "name": {"type": "string", "maxLength": 200, "nullable": True},
            "params": {"type": "object", "nullable": True, "description": "finite numbers only"},
            "dispatch": {"type": "boolean", "default": True, "nullable": True},
        },
    },
    "ProgressReport": {
        "type": "object",
        "required": ["job_id"],
        "properties": {
            "job_id": {"type": "string", "minLength": 1, "maxLength": 128},
            "progress": {"type": "number", "minimum": 0, "maximum": 100},
            "message": {"type": "string", "maxLength": 2000},
            "status": {"type": "string", "enum": ["processing", "completed", "failed"]},
            "seq": {"type": "integer", "minimum": 0, "maximum": 2**53 - 1},
            "result_url": {
                "type": "string",
                "maxLength": 2048,
                "pattern": f"^$|{RESULT_URL_PATTERN}",
                "description": "a same-origin absolute path (not // or /\\) or an http(s) URL; empty: none",
            },
            "quality": QUALITY,
        },
    },
    "Accepted": {
        "type": "object",
        "required": ["status", "job_id", "applied"],
        "properties": {
            "status": {"type": "string", "enum": ["accepted"]},
            "job_id": {"type": "string"},
            "applied": {"type": "boolean"},
        },
    },
}

FORWARD_ERRORS = {
    "502": _error("Forwarding server (JupyterHub): the meshprogress service is unreachable"),
    "504": _error("Forwarding server (JupyterHub): the meshprogress service did not answer in time"),
}
OVER_QUOTA = {
    "429": {
        "description": "Over one of the user's quotas (a batch of N counts N); nothing was created. The error names "
        "the limit and its value; retry after Retry-After seconds",
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
        "content": {"application/json": {"schema": _ref("QuotaError")}},
    }
}
AUTH_ERRORS = {
    "401": _error("Not authenticated (no or unknown credentials)"),
    "403": _error("Not allowed (e.g. a cookie-authenticated request without its XSRF token)"),
    "503": _error("Store unavailable; retry after Retry-After"),
    **FORWARD_ERRORS,
}


def _mesh_file(mesh_id: dict[str, Any], summary: str, found: str, missing: str) -> dict[str, Any]:
    """A route sending one of a job's files: GET for the bytes, HEAD for the size (Content-Length) and name."""
    headers = {
        "Content-Length": {"schema": {"type": "integer"}, "description": "The file's size in bytes"},
        "Content-Disposition": {"schema": {"type": "string"}, "description": "The file name: job name + suffix"},
    }
    ok = {
        "description": found,
        "headers": headers,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
    responses = {"200": ok, "404": _error("Not found"), "409": _error(missing), **AUTH_ERRORS}
    return {
        "get": {"summary": summary, "parameters": [mesh_id], "responses": responses},
        "head": {
            "summary": "The file's size and name, without the bytes",
            "parameters": [mesh_id],
            "responses": {**responses, "200": {"description": found, "headers": headers}},
        },
    }


def openapi_document() -> dict[str, Any]:
    """The document, built fresh so it always names the installed version."""
    mesh_id, batch_id = _id_param("mesh_id"), _id_param("batch_id")
    return {
        "openapi": "3.0.3",
        "info": {"title": "meshprogress-nb hub", "version": __version__},
        "servers": [{"url": "/meshprogress/api/v1"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "jupyter": {"type": "apiKey", "in": "header", "name": "Authorization"},
                "callbackToken": {"type": "apiKey", "in": "header", "name": "X-Callback-Token"},
            },
        },
        "security": [{"jupyter": []}],
        "paths": {
            "/meshes": {
                "get": {
                    "summary": "The user's meshes, newest first, by pages; or, with batch_id, that batch's members",
                    "parameters": [
                        {"name": "status", "in": "query", "schema": {"type": "string", "enum": STATUSES}},
                        *_paging(200),
                        {
                            "name": "batch_id",
                            "in": "query",
                            "description": "Only this batch's members (at most 200), for anyone who may read it",
                            "schema": {"type": "integer", "minimum": 1},
                        },
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"meshes": {"type": "array", "items": _ref("Mesh")}, **NEXT_BEFORE},
                            },
                            "Meshes",
                        ),
                        "404": _error("No such batch, or not one this user may read"),
                        "422": _error("Unknown status, or a limit or before out of range"),
                        **AUTH_ERRORS,
                    },
                },
                "post": {
                    "summary": "Create a mesh job",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewMesh")}}},
                    "responses": {
                        "201": _json(_ref("Mesh"), "Created, with the worker's callback URL and token"),
                        "400": _error("Body is not JSON"),
                        "413": _error("Body too large"),
                        "422": _error("Invalid field"),
                        **OVER_QUOTA,
                        **AUTH_ERRORS,
                    },
                },
            },
            "/meshes/{mesh_id}": {
                "get": {
                    "summary": "One mesh",
                    "parameters": [mesh_id],
                    "responses": {"200": _json(_ref("Mesh"), "The mesh"), "404": _error("Not found"), **AUTH_ERRORS},
                }
            },
            **{
                f"/meshes/{{mesh_id}}/{action}": {
                    "post": {
                        "summary": f"{action.capitalize()} a mesh job",
                        "parameters": [mesh_id],
                        "responses": {
                            "200": _json(_ref("Mesh"), "The mesh after the change"),
                            "404": _error("Not found"),
                            "409": _error("Not allowed in the current status"),
                            **AUTH_ERRORS,
                        },
                    }
                }
                for action in ("cancel", "retry")
            },
            "/meshes/{mesh_id}/result": _mesh_file(
                mesh_id,
                "The mesh file a dispatched job wrote",
                "The mesh (PLY, STL or OBJ), as an attachment named after the job (terrain_single.ply)",
                "The job has no result file (yet)",
            ),
            "/meshes/{mesh_id}/preview": _mesh_file(
                mesh_id,
                "The mesh a browser previews: the worker's decimated <result>.preview.ply (binary PLY, triangles, "
                "at most 100,000 faces, optional int vertex property label), else the result itself when it is at "
                "most preview_max_bytes",
                "The preview mesh, inline; its format is the suffix of the Content-Disposition filename",
                "The job has no preview (yet): no result, or a large result without a preview file",
            ),
            "/batches": {
                "get": {
                    "summary": "The user's batches, newest first, a page at a time",
                    "parameters": _paging(100),
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"batches": {"type": "array", "items": _ref("Batch")}, **NEXT_BEFORE},
                            },
                            "Batches",
                        ),
                        "422": _error("A limit or before out of range"),
                        **AUTH_ERRORS,
                    },
                },
                "post": {
                    "summary": "Create a batch of mesh jobs",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewBatch")}}},
                    "responses": {
                        "201": _json(_ref("Batch"), "Created, with its meshes and their callbacks"),
                        "400": _error("Body is not JSON"),
                        "413": _error("Body too large"),
                        "422": _error("Invalid field, or more sources than max_batch_size or a quota allows"),
                        **OVER_QUOTA,
                        **AUTH_ERRORS,
                    },
                },
            },
            "/batches/{batch_id}": {
                "get": {
                    "summary": "One batch",
                    "parameters": [batch_id],
                    "responses": {"200": _json(_ref("Batch"), "The batch"), "404": _error("Not found"), **AUTH_ERRORS},
                }
            },
            **{
                f"/batches/{{batch_id}}/{action}": {
                    "post": {
                        "summary": f"{action.capitalize()} every member of a batch it applies to",
                        "parameters": [batch_id],
                        "responses": {
                            "200": _json(_ref("Batch"), "The batch after the change"),
                            "404": _error("Not found"),
                            **AUTH_ERRORS,
                        },
                    }
                }
                for action in ("cancel", "retry")
            },
            "/mesh_callbacks/progress": {
                "post": {
                    "summary": "A worker's progress report",
                    "security": [{"callbackToken": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": _ref("ProgressReport")},
                            "application/x-www-form-urlencoded": {"schema": _ref("ProgressReport")},
                        },
                    },
                    "responses": {
                        "202": _json(_ref("Accepted"), "Accepted (applied false: a duplicate, ignored)"),
                        "400": _error("Body is not UTF-8 JSON or a form"),
                        "401": _error("Invalid callback token"),
                        "409": _error("The attempt has ended; stop working"),
                        "413": _error("Body too large"),
                        "422": _error("Invalid field"),
                        "503": _error("Store unavailable; retry after Retry-After"),
                        **FORWARD_ERRORS,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3 document"), **AUTH_ERRORS},
                }
            },
        },
    }
