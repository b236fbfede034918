"""``python -m meshprogress_nb demo``: JupyterLab on the embedded default with the demo notebook open, or
``--headless``: a server in the background, a batch of real mesh jobs, live progress in the terminal."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

from .models import TERMINAL, Status
from .notebook.client import connect
from .samples import HEAD_MRI, head_mri

PACKAGE = Path(__file__).resolve().parent
SAMPLES = PACKAGE / "samples"
NOTEBOOK = "demo.ipynb"
BAR = 24


def missing_mesher() -> str | None:
    """Why the demo's jobs could not run here, or None: it meshes real images, which needs the [mesher] extra."""
    try:
        import meshprogress_nb.worker.mesher  # noqa: F401 - what every dispatched job imports first
    except ImportError as exc:
        return f'The demo needs the [mesher] extra ({exc}): pip install "meshprogress-nb[mesher]"'
    return None


def workspace(root: Path) -> Path:
    """A folder with the sample images and the demo notebook, to serve as the server's root."""
    root.mkdir(parents=True, exist_ok=True)
    images = root / "images"
    images.mkdir(exist_ok=True)
    for sample in sorted(SAMPLES.glob("*.png")):
        shutil.copy2(sample, images / sample.name)
    shutil.copy2(head_mri(), images / HEAD_MRI)
    notebook = _notebook_source()
    if notebook is not None:
        shutil.copy2(notebook, root / NOTEBOOK)
    return root


def _notebook_source() -> Path | None:
    for candidate in (PACKAGE / "notebooks" / NOTEBOOK, PACKAGE.parent / "notebooks" / NOTEBOOK):
        if candidate.is_file():
            return candidate
    return None


def run_lab(root: Path, port: int | None) -> NoReturn:
    """Become JupyterLab with the extension, opening the demo notebook.

    The process is replaced rather than given a child, so whatever stops the demo (Ctrl-C, a SIGTERM from a
    supervisor or a test) stops JupyterLab itself and leaves no server behind.
    """
    workspace(root)
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}", str(root / NOTEBOOK)]
    if port:
        command.append(f"--ServerApp.port={port}")
    if os.geteuid() == 0:
        command.append("--allow-root")
    sys.stdout.flush()
    os.execv(sys.executable, command)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root: Path, token: str) -> tuple[subprocess.Popen[bytes], str]:
    """A background jupyter-server on a free loopback port, its state kept under ``root``."""
    port = _free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / ".runtime"), "JUPYTER_DATA_DIR": str(root / ".data")}
    env.pop("MESHPROGRESS_REDIS_URL", None)
    log = open(root / "server.log", "ab")  # noqa: SIM115 - handed to the server process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited; see {root / 'server.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise TimeoutError("the server did not start in 60 s")


def _line(payload: dict[str, Any]) -> str:
    filled = round(BAR * payload["progress"] / 100)
    eta = payload.get("estimated_remaining")
    eta_text = f" Est. {eta // 60}m {eta % 60}s" if eta else ""
    name = str(payload.get("name") or payload.get("mesh_id"))[:18]
    return (
        f"{name:<18} [{'#' * filled}{'.' * (BAR - filled)}] {payload['progress']:5.1f}% "
        f"{payload['status']:<10} {str(payload.get('message') or '')[:30]}{eta_text}"
    )


async def watch(ws_url: str, batch_id: int, mesh_ids: list[int], out: Any = sys.stdout) -> dict[str, Any]:
    """Follow a batch over the cable, printing each mesh's line as it changes; returns the final batch payload."""
    from tornado.websocket import websocket_connect

    connection = await websocket_connect(ws_url, subprotocols=["actioncable-v1-json"])
    subscriptions = [{"channel": "BatchProgressChannel", "batch_id": batch_id}] + [
        {"channel": "MeshProgressChannel", "mesh_id": mesh_id} for mesh_id in mesh_ids
    ]
    for params in subscriptions:
        await connection.write_message(json.dumps({"command": "subscribe", "identifier": json.dumps(params)}))
    meshes: dict[int, dict[str, Any]] = {}
    batch: dict[str, Any] = {}
    tty = out.isatty()
    drawn = 0
    try:
        while True:
            raw = await connection.read_message()
            if raw is None:
                raise ConnectionError("the cable closed")
            frame = json.loads(raw)
            message = frame.get("message")
            if not isinstance(message, dict):
                continue
            if "batch_id" in message and "total" in message:
                batch = message
            elif message.get("version", 0) > meshes.get(message["mesh_id"], {}).get("version", 0):
                previous = meshes.get(message["mesh_id"], {}).get("status")
                meshes[message["mesh_id"]] = message
                if not tty and previous != message["status"]:
                    print(_line(message), file=out, flush=True)
            if tty:
                if drawn:
                    out.write(f"\x1b[{drawn}F")
                lines = [_line(meshes[i]) for i in mesh_ids if i in meshes]
                if batch:
                    lines.append(
                        f"batch {batch['batch_id']}: {batch['completed']}/{batch['total']} completed, "
                        f"{batch['failed']} failed, {batch['progress']:.1f}% {batch['status']}"
                    )
                out.write("".join(f"\x1b[2K{line}\n" for line in lines))
                out.flush()
                drawn = len(lines)
            if (
                batch
                and Status(batch["status"]) in TERMINAL
                and len(meshes) == len(mesh_ids)
                and all(Status(m["status"]) in TERMINAL for m in meshes.values())
            ):
                return batch
    finally:
        connection.close()


def run_headless(root: Path | None = None, out: Any = sys.stdout) -> int:
    """Submit a batch of the sample images, and the MRI volume as tetrahedra (tens of seconds), and show their
    live progress; 0 if every mesh completed."""
    root = workspace(root or Path(tempfile.mkdtemp(prefix="meshprogress-demo-")))
    token = os.urandom(16).hex()
    process, url = start_server(root, token)
    try:
        jobs = connect(url, token)
        sources = [f"images/{p.name}" for p in sorted((root / "images").glob("*.png"))]
        batch = jobs.submit_batch(sources, name="demo")
        print(f"Submitted batch {batch.id}: {len(sources)} meshes from {root / 'images'}", file=out)
        mesh_ids = list(batch.record["mesh_ids"])
        volume = jobs.submit(f"images/{HEAD_MRI}", name="head MRI", kind="tetrahedra", format="vtu", target_faces=4000)
        mesh_ids.append(volume.id)
        print(f"Submitted mesh {volume.id}: tetrahedra of images/{HEAD_MRI}", file=out)
        ws_url = url.replace("http://", "ws://") + f"meshprogress/cable?token={token}"
        final = asyncio.run(watch(ws_url, batch.id, mesh_ids, out))
        print(f"Batch {final['status']}: {final['completed']} completed, {final['failed']} failed", file=out)
        record = volume.refresh()
        volume_done = record["status"] == "completed"
        quality = record.get("quality") or {}
        print(
            f"Head MRI: {record['status']}, {quality.get('cells', 0)} tetrahedra, "
            f"min dihedral {quality.get('min_dihedral_deg', 0):.1f} deg",
            file=out,
        )
        results = sorted((root / ".data" / "meshprogress" / "results").glob("*"))
        for path in results:
            print(f"  {path}  ({path.stat().st_size:,} bytes)", file=out)
        return 0 if final["status"] == "completed" and volume_done else 1
    finally:
        process.terminate()
        process.wait(10)
