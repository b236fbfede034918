"""Parsing and validation of worker callbacks (JSON or form bodies) into a :class:`~.state.Report`.

Everything a worker sends is untrusted: each field is checked for type and range, and any problem is an
:class:`InvalidInput` naming the field, never an exception that escapes as a 500.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import parse_qsl

from ..models import Status
from ..state import WORKER_STATUSES, Report
from . import validation
from .validation import InvalidInput

MAX_MESSAGE = 2000
MAX_URL = 2048
MAX_JOB_ID = 128
MAX_QUALITY = 4096  # bytes of the quality report, encoded as JSON


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Decode a JSON or form body into a dict; 400 for anything that is not one."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(400, "Body is not valid UTF-8") from exc
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=64))
        except ValueError as exc:
            raise InvalidInput(400, "Body is not a valid form") from exc
    try:
        data = json.loads(text)  # NaN/Infinity parse, then fail the field check with a 422
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(400, "Body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise InvalidInput(400, "Body must be a JSON object")
    return data


def parse_callback(data: dict[str, Any], *, from_form: bool = False) -> tuple[str, Report]:
    """The job id and report in a callback body."""
    job_id = data.get("job_id")
    if not isinstance(job_id, str) or not job_id or len(job_id) > MAX_JOB_ID:
        raise InvalidInput(422, "job_id must be a non-empty string", "job_id")
    validation.text(job_id, "job_id")
    return job_id, Report(
        progress=_progress(data.get("progress"), from_form),
        message=_text(data.get("message"), "message", MAX_MESSAGE),
        status=_status(data.get("status")),
        seq=_seq(data.get("seq"), from_form),
        result_url=_url(data.get("result_url")),
        quality=_quality(data.get("quality"), from_form),
    )


def _progress(value: Any, from_form: bool) -> float | None:
    if value is None or (from_form and value == ""):
        return None
    if from_form and isinstance(value, str):
        try:
            value = float(value)
        except ValueError as exc:
            raise InvalidInput(422, "progress must be a number between 0 and 100", "progress") from exc
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(422, "progress must be a number between 0 and 100", "progress")
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise InvalidInput(422, "progress must be a number between 0 and 100", "progress")
    return round(float(value), 3)


def _text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(422, f"{field} must be a string", field)
    if len(value) > limit:
        raise InvalidInput(422, f"{field} must be at most {limit} characters", field)
    return validation.text(value, field)


def _status(value: Any) -> Status | None:
    if value is None or value == "":
        return None
    allowed = ", ".join(sorted(s.value for s in WORKER_STATUSES))
    try:
        status = Status(value) if isinstance(value, str) else None
    except ValueError:
        status = None
    if status not in WORKER_STATUSES:
        raise InvalidInput(422, f"status must be one of {allowed}", "status")
    return status


def _seq(value: Any, from_form: bool) -> int | None:
    if value is None or (from_form and value == ""):
        return None
    if from_form and isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise InvalidInput(422, "seq must be a non-negative integer", "seq")
    return value


def _url(value: Any) -> str | None:
    url = _text(value, "result_url", MAX_URL)
    if url is None or url == "":
        return None
    return validation.result_url(url)


def _quality(value: Any, from_form: bool) -> dict[str, Any] | None:
    """The worker's quality report: a JSON object of at most :data:`MAX_QUALITY` bytes, finite numbers only."""
    if value is None or (from_form and value == ""):
        return None
    if from_form and isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as exc:
            raise InvalidInput(422, "quality must be a JSON object", "quality") from exc
    if not isinstance(value, dict):
        raise InvalidInput(422, "quality must be a JSON object", "quality")
    try:
        encoded = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(422, "quality must hold finite numbers only", "quality") from exc
    if len(encoded.encode("utf-8")) > MAX_QUALITY:
        raise InvalidInput(422, f"quality must be at most {MAX_QUALITY} bytes as JSON", "quality")
    return value
