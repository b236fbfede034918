"""``meshprogress-worker run``, as a batch system would start it: protocol tests against a recording stand-in of
the callback route, then end to end against a real hub."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import trimesh
from callback_recorder import Answer, RecordingHub
from PIL import Image

from meshprogress_nb.demo import SAMPLES
from support.clients import Api
from support.server import HubServer


def worker(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meshprogress_nb.worker", "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def job_env(hub: RecordingHub) -> dict[str, str]:
    return {
        **os.environ,
        "MESHPROGRESS_JOB_ID": "job-7",
        "MESHPROGRESS_CALLBACK_TOKEN": "cli-token",
        "MESHPROGRESS_CALLBACK_URL": hub.url,
    }


def test_protocol_cli_reports_a_job_from_environment_variables(recording_hub: RecordingHub, tmp_path: Path) -> None:
    output = tmp_path / "ripples.stl"
    run = worker(
        str(SAMPLES / "ripples.png"), "--output", str(output), "--target-faces", "30000", env=job_env(recording_hub)
    )
    assert run.returncode == 0, run.stderr
    faces = len(trimesh.load(output).faces)
    assert 25_000 < faces <= 30_000 and f"{faces} faces" in run.stdout
    requests = recording_hub.requests
    assert {r.headers["X-Callback-Token"] for r in requests} == {"cli-token"}
    bodies = [r.body for r in requests]
    assert bodies[0]["message"] == "Starting" and bodies[0]["status"] == "processing"
    assert bodies[-1] == {
        **bodies[-1],
        "job_id": "job-7",
        "status": "completed",
        "progress": 100,
        "message": f"{faces} faces written",
    }
    assert [b["progress"] for b in bodies] == sorted(b["progress"] for b in bodies)
    assert [b["seq"] for b in bodies] == sorted({b["seq"] for b in bodies})


def test_protocol_cli_exit_codes(recording_hub: RecordingHub, tmp_path: Path) -> None:
    ids = [
        "--job-id",
        "job-8",
        "--token",
        "t",
        "--callback-url",
        recording_hub.url,
        "--output",
        str(tmp_path / "o.ply"),
    ]
    recording_hub.default = Answer(409, {"error": "Mesh is cancelled", "status": "cancelled"})
    cancelled = worker(str(SAMPLES / "crater.png"), *ids, "--min-interval", "0")
    assert cancelled.returncode == 2 and "stopped" in cancelled.stderr
    assert not (tmp_path / "o.ply").exists()

    recording_hub.default = Answer(401, {"error": "Invalid callback token"})
    refused = worker(str(SAMPLES / "crater.png"), *ids)
    assert refused.returncode == 1 and "refused the callback token" in refused.stderr

    recording_hub.default = Answer()
    count = len(recording_hub.requests)
    failed = worker(str(tmp_path / "missing.png"), *ids)
    assert failed.returncode == 1 and "missing.png" in failed.stderr
    final = recording_hub.bodies()[-1]
    assert len(recording_hub.requests) > count and final["status"] == "failed" and "missing.png" in final["message"]

    clean = {k: v for k, v in os.environ.items() if not k.startswith("MESHPROGRESS_")}
    missing = subprocess.run(["meshprogress-worker", "run", "x.png"], capture_output=True, text=True, env=clean)
    assert missing.returncode == 1 and "--job-id" in missing.stderr
    usage = worker(str(SAMPLES / "crater.png"), *ids, "--mode", "voxels")
    assert usage.returncode == 1  # a usage error is a failure, never the "cancelled" status 2


def test_protocol_cli_reports_sigterm_as_a_failure(recording_hub: RecordingHub, tmp_path: Path) -> None:
    noise = (np.random.default_rng(3).random((1024, 1024)) * 255).astype(np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    args = [str(tmp_path / "noise.png"), "--output", str(tmp_path / "noise.obj"), "--target-faces", "10000000"]
    process = subprocess.Popen(
        [sys.executable, "-m", "meshprogress_nb.worker", "run", *args, "--smooth-iterations", "0"],
        env=job_env(recording_hub),
        stderr=subprocess.PIPE,
        text=True,
    )
    recording_hub.wait_for(1, timeout=30)  # "Starting": the job runs
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1, stderr
    final = recording_hub.bodies()[-1]
    assert final["status"] == "failed" and "SIGTERM" in final["message"]
    assert not list(tmp_path.glob("noise.obj*"))


async def test_cli_runs_a_job_to_completion_from_environment_variables(
    hub: HubServer, alice: Api, tmp_path: Path
) -> None:
    mesh = await alice.create_mesh(str(SAMPLES / "ripples.png"))
    env = {
        **os.environ,
        "MESHPROGRESS_JOB_ID": mesh["job_id"],
        "MESHPROGRESS_CALLBACK_TOKEN": mesh["callback"]["token"],
        "MESHPROGRESS_CALLBACK_URL": mesh["callback"]["url"],
    }
    output = tmp_path / "ripples.stl"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "meshprogress_nb.worker",
            "run",
            str(SAMPLES / "ripples.png"),
            "--output",
            str(output),
            "--target-faces",
            "30000",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert len(trimesh.load(output).faces) <= 30000
    state = (await alice.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()
    assert state["status"] == "completed" and "faces written" in state["message"]


async def test_cli_exit_codes_for_cancelled_and_failed_jobs(hub: HubServer, alice: Api, tmp_path: Path) -> None:
    cancelled = await alice.create_mesh()
    await alice.http.post(f"meshprogress/api/v1/meshes/{cancelled['id']}/cancel")
    args = [
        "--job-id",
        cancelled["job_id"],
        "--token",
        cancelled["callback"]["token"],
        "--callback-url",
        cancelled["callback"]["url"],
        "--output",
        str(tmp_path / "c.ply"),
    ]
    run = subprocess.run(
        ["meshprogress-worker", "run", str(SAMPLES / "crater.png"), *args], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2 and "stopped" in run.stderr

    failing = await alice.create_mesh()
    args = [
        "--job-id",
        failing["job_id"],
        "--token",
        failing["callback"]["token"],
        "--callback-url",
        failing["callback"]["url"],
    ]
    run = subprocess.run(
        ["meshprogress-worker", "run", str(tmp_path / "missing.png"), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    state = (await alice.http.get(f"meshprogress/api/v1/meshes/{failing['id']}")).json()
    assert state["status"] == "failed" and "missing.png" in state["message"]

    missing = subprocess.run(
        ["meshprogress-worker", "run", "x.png"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("MESHPROGRESS_")},
    )
    assert missing.returncode == 1 and "--job-id" in missing.stderr
