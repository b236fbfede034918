"""Every field of a worker callback is checked; bad input is a clear InvalidInput, never a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshprogress_nb.models import Status
from meshprogress_nb.server.callbacks import InvalidInput, parse_body, parse_callback

FORM = "application/x-www-form-urlencoded"


def test_json_callback_parses() -> None:
    job_id, report = parse_callback(
        {"job_id": "j", "progress": 42.5, "message": "m", "status": "processing", "seq": 3, "result_url": "/r"}
    )
    assert job_id == "j"
    assert (report.progress, report.message, report.status, report.seq) == (42.5, "m", Status.PROCESSING, 3)


def test_form_callback_parses_numbers() -> None:
    data = parse_body(b"job_id=j&progress=12.5&seq=4&status=completed", FORM)
    _, report = parse_callback(data, from_form=True)
    assert (report.progress, report.seq, report.status) == (12.5, 4, Status.COMPLETED)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"progress": float("nan")}, "progress"),
        ({"progress": float("inf")}, "progress"),
        ({"progress": -1}, "progress"),
        ({"progress": 101}, "progress"),
        ({"progress": "50"}, "progress"),
        ({"progress": True}, "progress"),
        ({"status": "exploded"}, "status"),
        ({"status": "pending"}, "status"),
        ({"status": "cancelled"}, "status"),
        ({"status": 3}, "status"),
        ({"message": ["x"]}, "message"),
        ({"message": "x" * 5000}, "message"),
        ({"seq": -1}, "seq"),
        ({"seq": 1.5}, "seq"),
        ({"result_url": "javascript:alert(1)"}, "result_url"),
        ({"result_url": "//evil.example/x"}, "result_url"),
        ({"job_id": None}, "job_id"),
        ({"job_id": 5}, "job_id"),
    ],
)
def test_invalid_fields_are_named(fields: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_callback({"job_id": "j", **fields})
    assert caught.value.status == 422 and caught.value.field == field


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe not utf-8", b"{not json", b"[1, 2]", b'"text"', b"[" * 100_000 + b"]" * 100_000],
)
def test_bodies_that_are_not_json_objects_are_400(body: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_body(body, "application/json")
    assert caught.value.status == 400


def test_nan_in_json_body_is_a_422_on_progress() -> None:
    data = parse_body(b'{"job_id": "j", "progress": NaN}', "application/json")
    with pytest.raises(InvalidInput) as caught:
        parse_callback(data)
    assert caught.value.field == "progress"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@given(
    st.dictionaries(st.sampled_from(["job_id", "progress", "message", "status", "seq", "result_url", "x"]), json_values)
)
def test_fuzzed_callbacks_parse_or_fail_cleanly(data: dict) -> None:
    try:
        job_id, report = parse_callback(json.loads(json.dumps(data)))
    except InvalidInput as exc:
        assert exc.status in (400, 422)
        return
    assert isinstance(job_id, str)
    assert report.progress is None or 0 <= report.progress <= 100


@given(st.binary(max_size=200), st.sampled_from(["application/json", FORM, "text/plain"]))
def test_fuzzed_bodies_parse_or_fail_cleanly(body: bytes, content_type: str) -> None:
    try:
        assert isinstance(parse_body(body, content_type), dict)
    except InvalidInput as exc:
        assert exc.status == 400


def test_a_quality_report_is_a_small_json_object_of_finite_numbers() -> None:
    quality = {"kind": "surface", "cells": 1772, "watertight": True, "bounding_box": [[0, 0, 0], [1, 2, 3]]}
    _, report = parse_callback({"job_id": "j", "status": "completed", "quality": quality})
    assert report.quality == quality
    _, form = parse_callback(parse_body(b"job_id=j&quality=%7B%22cells%22%3A3%7D", FORM), from_form=True)
    assert form.quality == {"cells": 3}
    for bad in ([1, 2], "big", {"volume": float("nan")}, {"area": float("inf")}, {"notes": "x" * 5000}):
        with pytest.raises(InvalidInput) as caught:
            parse_callback({"job_id": "j", "quality": bad})
        assert (caught.value.status, caught.value.field) == (422, "quality")
