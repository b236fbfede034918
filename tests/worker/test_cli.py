"""``meshprogress-worker run``, as a batch system would start it, against a real hub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import trimesh

from meshprogress_nb.demo import SAMPLES
from support.clients import Api
from support.server import HubServer


async def test_cli_runs_a_job_to_completion_from_environment_variables(hub: HubServer, alice: Api,
                                                                       tmp_path: Path) -> None:
    mesh = await alice.create_mesh(str(SAMPLES / "ripples.png"))
    env = {
        **os.environ,
        "MESHPROGRESS_JOB_ID": mesh["job_id"],
        "MESHPROGRESS_CALLBACK_TOKEN": mesh["callback"]["token"],
        "MESHPROGRESS_CALLBACK_URL": mesh["callback"]["url"],
    }
    output = tmp_path / "ripples.stl"
    run = subprocess.run([sys.executable, "-m", "meshprogress_nb.worker", "run", str(SAMPLES / "ripples.png"),
                          "--output", str(output), "--target-faces", "30000"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert len(trimesh.load(output).faces) <= 30000
    state = (await alice.http.get(f"meshprogress/api/v1/meshes/{mesh['id']}")).json()
    assert state["status"] == "completed" and "faces written" in state["message"]


async def test_cli_exit_codes_for_cancelled_and_failed_jobs(hub: HubServer, alice: Api, tmp_path: Path) -> None:
    cancelled = await alice.create_mesh()
    await alice.http.post(f"meshprogress/api/v1/meshes/{cancelled['id']}/cancel")
    args = ["--job-id", cancelled["job_id"], "--token", cancelled["callback"]["token"],
            "--callback-url", cancelled["callback"]["url"], "--output", str(tmp_path / "c.ply")]
    run = subprocess.run(["meshprogress-worker", "run", str(SAMPLES / "crater.png"), *args],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "stopped" in run.stderr

    failing = await alice.create_mesh()
    args = ["--job-id", failing["job_id"], "--token", failing["callback"]["token"],
            "--callback-url", failing["callback"]["url"]]
    run = subprocess.run(["meshprogress-worker", "run", str(tmp_path / "missing.png"), *args],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    state = (await alice.http.get(f"meshprogress/api/v1/meshes/{failing['id']}")).json()
    assert state["status"] == "failed" and "missing.png" in state["message"]

    missing = subprocess.run(["meshprogress-worker", "run", "x.png"], capture_output=True, text=True,
                             env={k: v for k, v in os.environ.items() if not k.startswith("MESHPROGRESS_")})
    assert missing.returncode == 1 and "--job-id" in missing.stderr
