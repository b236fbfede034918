"""Mesh and batch records as flat string maps (Redis hash fields, SQLite JSON), one JSON text per field.

JSON per field keeps types exact (None, floats, dicts) while integer counters stay plain digits that
Redis ``HINCRBY`` can change in place.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import orjson

from ...models import Batch, Mesh, Status

COUNT_PREFIX = "count_"


def mesh_dict(mesh: Mesh) -> dict[str, Any]:
    return {f.name: _plain(getattr(mesh, f.name)) for f in dataclasses.fields(Mesh)}


def mesh_from_dict(values: dict[str, Any]) -> Mesh:
    known = {f.name for f in dataclasses.fields(Mesh)}
    values = {name: value for name, value in values.items() if name in known}
    values["status"] = Status(values["status"])
    return Mesh(**values)


def mesh_fields(mesh: Mesh) -> dict[str, str]:
    return {name: json.dumps(value) for name, value in mesh_dict(mesh).items()}


def changed_fields(old: Mesh, new: Mesh) -> dict[str, str]:
    """The encoded fields of ``new`` that differ from ``old``: all a compare-and-set write from ``old`` sets.

    orjson (on every callback's write, several times faster than ``json`` here) writes text that ``json``
    reads back to the same values for all a change can carry (validated numbers, strings, None); the user's
    ``params``, which may hold numbers orjson refuses, are written once at creation by :func:`mesh_fields`.
    """
    before = vars(old)  # a dataclass's fields, all of them in its __dict__: faster than getattr per field
    return {name: orjson.dumps(_plain(value)).decode() for name, value in vars(new).items() if value != before[name]}


def mesh_from_fields(fields: dict[str, str]) -> Mesh:
    return mesh_from_dict({name: json.loads(value) for name, value in fields.items()})


def batch_dict(batch: Batch) -> dict[str, Any]:
    return dataclasses.asdict(batch)


def batch_from_dict(values: dict[str, Any]) -> Batch:
    return Batch(**values)


def batch_fields(batch: Batch) -> dict[str, str]:
    fields = {f.name: json.dumps(getattr(batch, f.name)) for f in dataclasses.fields(Batch) if f.name != "counts"}
    fields.update({COUNT_PREFIX + name: str(n) for name, n in batch.counts.items()})
    return fields


def batch_from_fields(fields: dict[str, str]) -> Batch:
    names = {f.name for f in dataclasses.fields(Batch)} - {"counts"}
    values: dict[str, Any] = {name: json.loads(fields[name]) for name in names if name in fields}
    values["counts"] = {
        key[len(COUNT_PREFIX) :]: int(value) for key, value in fields.items() if key.startswith(COUNT_PREFIX)
    }
    return Batch(**values)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Status) else value
