"""The official @rails/actioncable consumer, run by Node (tests/server/cable/js/client.mjs), driven line by line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

CLIENT_DIR = Path(__file__).resolve().parent.parent / "server" / "cable" / "js"


class NodeConsumer:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((line + "\n").encode())
        await self.process.stdin.drain()

    async def event(self, timeout: float = 15) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        assert line, "the Node client exited"
        return json.loads(line)

    async def until(self, predicate, timeout: float = 15) -> dict[str, Any]:  # noqa: ANN001
        while True:
            event = await self.event(timeout)
            if predicate(event):
                return event


async def start_consumer(client: Path, url: str) -> NodeConsumer:
    process = await asyncio.create_subprocess_exec(
        "node", str(client), url, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    consumer = NodeConsumer(process)
    assert (await consumer.event())["event"] == "ready"
    return consumer
