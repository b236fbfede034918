"""A Redis server of the test's own, on its own port, that the test may kill, pause and restart."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import redis

from .server import free_port


class RedisProcess:
    """redis-server with an append-only file, so a restart (like a production Redis with AOF) keeps the data;
    ``persistent=False``: none, so a restart comes back empty (a cache-style Redis)."""

    def __init__(self, root: Path, password: str = "", persistent: bool = True) -> None:
        self.root = root
        self.password = password
        self.persistent = persistent
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        root.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        self.process = subprocess.Popen(
            [
                "redis-server",
                *(["-"] if self.password else []),  # the password from stdin: a command line is public in /proc
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.root),
                "--appendonly",
                "yes" if self.persistent else "no",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert self.process.stdin is not None
        self.process.stdin.write(f"requirepass {self.password}\n".encode() if self.password else b"")
        self.process.stdin.close()
        client = redis.Redis(port=self.port, password=self.password or None, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise TimeoutError("redis-server did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)
