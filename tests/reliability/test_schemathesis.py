"""schemathesis against openapi.json on a live server, every check and the stateful phase: the document is true."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from support.server import HubServer


def test_schemathesis_finds_no_failures(tmp_path: Path) -> None:
    if shutil.which("schemathesis") is None:
        pytest.fail("schemathesis is a test dependency: pip install -e '.[test]'")
    server = HubServer(tmp_path, extra="c.MeshProgress.dispatcher = 'none'").start(timeout=90)
    try:
        run = subprocess.run(
            [
                "schemathesis",
                "run",
                server.url + "meshprogress/api/v1/openapi.json?token=alice-token",
                "--url",
                server.url + "meshprogress/api/v1",
                "-H",
                "Authorization: token alice-token",
                "--max-examples",
                "25",
                "--checks",
                "all",
                "--seed",
                "20261129",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        # Warnings (e.g. the callback route answering 401 to every token schemathesis makes up) are not failures.
        summary = run.stdout.split("SUMMARY")[-1]
        assert " passed" in summary and "Failures:" not in summary, summary
        assert server.process and server.process.poll() is None, "the server died under fuzzing"
    finally:
        server.stop()
