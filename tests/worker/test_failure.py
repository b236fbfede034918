"""Failure messages as a job's owner reads them."""

from __future__ import annotations

import pytest

from meshprogress_nb.worker.failure import failure_message, strip_paths


def test_an_os_error_reads_as_its_reason_and_file_name() -> None:
    try:
        open("/srv/jupyter/alice/tmp/pytest-7/images/scan.png")  # noqa: SIM115
    except OSError as exc:
        assert failure_message(exc) == "No such file or directory: scan.png"


def test_the_message_not_the_repr() -> None:
    assert failure_message(ValueError("the image is empty")) == "the image is empty"
    assert failure_message(MemoryError()) == "MemoryError"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cannot read /home/bob/work/a b.png now", "cannot read a b.png now"),
        ("'/var/lib/mesh/out.ply' exists", "'out.ply' exists"),
        ("see https://example.org/docs/x and /tmp/x/y", "see https://example.org/docs/x and y"),
        ("ratio 1/2 and /root", "ratio 1/2 and /root"),
    ],
)
def test_absolute_paths_become_file_names(text: str, expected: str) -> None:
    assert strip_paths(text) == expected
