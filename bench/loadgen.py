"""The Python side of the Node load generator (bench/node/loadgen.mjs): one process, one JSON line per command."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent / "node"


def ensure_node_modules() -> None:
    """``npm ci`` once: bench/node/node_modules is git-ignored."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("bench needs Node.js and npm (the load generator is a Node script using `ws`)")
    if not (NODE_DIR / "node_modules" / "ws").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300)


class LoadGen:
    """A running ``node loadgen.mjs``: holds the subscribers of one system under test."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["node", "--max-old-space-size=4096", str(NODE_DIR / "loadgen.mjs")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._expect("ready")

    @property
    def pid(self) -> int:
        return self.process.pid

    def _expect(self, event: str) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the load generator exited (waiting for {event!r})")
        answer = json.loads(line)
        if answer.get("event") != event:
            raise RuntimeError(f"load generator: expected {event!r}, got {answer}")
        return answer

    def send(self, command: dict[str, Any]) -> None:
        """Start a command without waiting for its answer (see :meth:`wait`)."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def wait(self, event: str) -> dict[str, Any]:
        return self._expect(event)

    def call(self, command: dict[str, Any]) -> dict[str, Any]:
        self.send(command)
        return self._expect(command["cmd"] if command["cmd"] != "connect" else "connected")

    def connect(self, url: str, n: int, identifiers: list[str], concurrency: int = 64) -> dict[str, Any]:
        return self.call({"cmd": "connect", "url": url, "n": n, "identifiers": identifiers, "concurrency": concurrency})

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send({"cmd": "close"})
                self.process.wait(30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
