"""The callback route below RequestHandler keeps the HTTP contract a handler gave it: JSON answers, 405 with
``Allow``, keep-alive after a refusal, a logged JSON 500 for the unexpected, and nothing sent after a close."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.routing import PathMatches, Rule
from tornado.testing import bind_unused_port

from meshprogress_nb.server.callback_route import CallbackRoute
from meshprogress_nb.server.identity import Identity
from support.core import Core
from support.waiting import wait_until

PATH = "/callback"


@dataclass
class Served:
    core: Core
    route: CallbackRoute
    port: int


@pytest.fixture
async def served(core: Core) -> AsyncIterator[Served]:
    """The hub's callback route in a tornado application, matched first, as the extension serves it."""
    app = web.Application()
    route = CallbackRoute(core.hub)
    app.default_router.rules.insert(0, app.default_router.process_rule(Rule(PathMatches(PATH), route)))
    server = HTTPServer(app)
    sock, port = bind_unused_port()
    server.add_sockets([sock])
    yield Served(core, route, port)
    server.stop()
    await server.close_all_connections()


async def exchange(port: int, requests: list[bytes]) -> list[tuple[int, dict[str, str], bytes]]:
    """Send each request on one connection, reading its answer before the next."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = []
    try:
        for request in requests:
            writer.write(request)
            head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)).decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in head[1:] if line)
            body = await reader.readexactly(int(headers["Content-Length"]))
            answers.append((int(head[0].split()[1]), headers, body))
    finally:
        writer.close()
    return answers


def post(body: dict | bytes, token: str = "x", method: str = "POST") -> bytes:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = f"{method} {PATH} HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nX-Callback-Token: {token}\r\n"
    return f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data


async def test_a_report_is_accepted_with_a_json_answer_and_a_date(served: Served) -> None:
    core, port = served.core, served.port
    mesh = await core.hub.create_mesh(Identity("alice"), "a.png", "", {}, dispatch=False)
    token = core.hub.tokens.issue(mesh.id, mesh.job_id)
    [(status, headers, body)] = await exchange(port, [post({"job_id": mesh.job_id, "progress": 40}, token)])
    assert status == 202
    assert json.loads(body) == {"status": "accepted", "job_id": mesh.job_id, "applied": True}
    assert headers["Content-Type"] == "application/json" and headers["Date"].endswith(" GMT")
    assert (await core.hub.backend.get_mesh(mesh.id)).progress == 40  # type: ignore[union-attr]


async def test_refusals_are_json_and_the_connection_serves_on(served: Served) -> None:
    port = served.port
    answers = await exchange(
        port,
        [
            post(b"{}", method="PUT"),
            post(b"not json"),
            post({"job_id": "j", "progress": 200}),
            post({"job_id": "j", "progress": 1}, token="forged"),
        ],
    )
    assert [(status, json.loads(body)) for status, _, body in answers] == [
        (405, {"error": "Method Not Allowed"}),
        (400, {"error": "Body is not valid JSON"}),
        (422, {"error": "progress must be a number between 0 and 100", "field": "progress"}),
        (401, {"error": "Invalid callback token"}),
    ]
    assert answers[0][1]["Allow"] == "POST"


class Recorder(logging.Handler):
    """The records of one logger, whatever propagation the servers of earlier tests set up."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def route_log() -> Iterator[Recorder]:
    logger = logging.getLogger("meshprogress_nb.server.callbacks")
    recorder, level = Recorder(), logger.level
    logger.addHandler(recorder)
    logger.setLevel(logging.DEBUG)
    yield recorder
    logger.removeHandler(recorder)
    logger.setLevel(level)


async def test_an_unexpected_failure_is_a_logged_json_500(
    served: Served, monkeypatch: pytest.MonkeyPatch, route_log: Recorder
) -> None:
    core, port = served.core, served.port

    async def broken(*args: object) -> bool:
        raise RuntimeError("a bug")

    monkeypatch.setattr(core.hub, "report", broken)
    [(status, _, body)] = await exchange(port, [post({"job_id": "j", "progress": 1})])
    assert (status, json.loads(body)) == (500, {"error": "Internal Server Error"})
    [failure] = [r for r in route_log.records if r.levelno == logging.ERROR]
    assert failure.exc_info is not None and str(failure.exc_info[1]) == "a bug"


async def test_a_client_gone_before_the_answer_leaves_nothing_behind(
    served: Served, monkeypatch: pytest.MonkeyPatch, route_log: Recorder
) -> None:
    core, port = served.core, served.port
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(*args: object) -> bool:
        entered.set()
        await release.wait()
        return True

    monkeypatch.setattr(core.hub, "report", slow)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(post({"job_id": "j", "progress": 1}))
    await asyncio.wait_for(entered.wait(), 30)
    writer.close()
    await writer.wait_closed()
    assert await reader.read() == b""
    release.set()  # the report's task finishes and writes nothing to the closed connection

    async def tasks() -> int:
        return len(served.route.tasks)

    await wait_until(tasks, lambda left: left == 0)
    assert [r.getMessage() for r in route_log.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize(
    "framing",
    [b"Content-Length: 100\r\n\r\n{", b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n"],
    ids=["length", "chunked"],
)
async def test_a_stalled_body_is_dropped_with_its_connection(served: Served, framing: bytes) -> None:
    served.core.hub.config.body_timeout = 0.2
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(f"POST {PATH} HTTP/1.1\r\nHost: h\r\nX-Callback-Token: x\r\n".encode() + framing)
    try:
        assert await asyncio.wait_for(reader.read(), 30) == b""  # closed, nothing answered
    finally:
        writer.close()
