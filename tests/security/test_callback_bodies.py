"""Every route that takes a body (the unauthenticated callback route, and the job API of a signed-in user) refuses
an over-long body before reading it, and drops bodies that stall; an anonymous POST to the job API is refused
before its body is read at all."""

from __future__ import annotations

import socket
import time

import pytest

from support.attack import Bystander, MiB, latency, rss, settle_rss
from support.clients import CALLBACK

pytestmark = pytest.mark.slow  # an attack on a server process of its own, measured


OVERSIZED = 100
SLOW = 300


#: Each route that reads a body, with the credential it takes.
ROUTES = [
    (CALLBACK, "X-Callback-Token: x"),
    ("meshprogress/api/v1/meshes", "Authorization: token alice-token"),
    ("meshprogress/api/v1/batches", "Authorization: token alice-token"),
]


def post_head(port: int, length: int, route: tuple[str, str] = ROUTES[0]) -> bytes:
    path, credential = route
    return (
        f"POST /{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"{credential}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def read_all(sock: socket.socket, timeout: float) -> bytes:
    """What the server sends until it closes the connection (or ``timeout``)."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received


@pytest.mark.slow
def test_oversized_and_stalled_bodies_are_refused_without_buffering(hub_factory) -> None:  # noqa: ANN001
    server = hub_factory(body_timeout=1.0)
    idle = rss(server)
    with Bystander(server) as bystander:
        # 512 MiB announced: 413 at once, before any of it is read.
        started = time.monotonic()
        for index in range(OVERSIZED):
            route = ROUTES[index % len(ROUTES)]
            with socket.create_connection(("127.0.0.1", server.port)) as sock:
                sock.sendall(post_head(server.port, 512 * MiB, route) + b"x" * 65536)
                answer = read_all(sock, 5)
                assert answer.startswith(b"HTTP/1.1 413"), (route, answer[:200])
        # No credentials: 401, answered once the (bounded) body is in, so that the client hears it.
        anonymous = ("meshprogress/api/v1/meshes", "Accept: application/json")
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(post_head(server.port, 1000, anonymous) + b" " * 1000)
            answer = read_all(sock, 5)
            assert answer.startswith(b"HTTP/1.1 401") and b'"error"' in answer, answer[:300]
        oversized_seconds = time.monotonic() - started

        # Bodies that stop half-way: dropped once body_timeout has passed, whatever their number.
        # (Opened a few milliseconds apart: a burst of connections is another attack, not this one.)
        stalled = []
        for index in range(SLOW):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(post_head(server.port, 1000, ROUTES[index % len(ROUTES)]) + b'{"job_id": "')
            stalled.append(sock)
            time.sleep(0.005)
        started = time.monotonic()
        for sock in stalled:
            read_all(sock, max(0.1, started + 10 - time.monotonic()))
        dropped_after = time.monotonic() - started
        for sock in stalled:
            sock.close()
    assert dropped_after < 5, dropped_after  # body_timeout is 1 s: all dropped, none held open
    figures = bystander.verify()
    assert bystander.peak_rss - idle < 64 * MiB, (bystander.peak_rss - idle) / MiB
    after = settle_rss(server, idle + 16 * MiB)
    assert after - idle < 16 * MiB, (after - idle) / MiB
    print(
        f"\nbodies: {OVERSIZED} x 512 MiB announced, refused in {oversized_seconds:.1f} s; {SLOW} stalled bodies "
        f"dropped within {dropped_after:.1f} s; RSS idle {idle / MiB:.0f} MiB, peak "
        f"+{(bystander.peak_rss - idle) / MiB:.1f} MiB, after +{(after - idle) / MiB:.1f} MiB; " + latency(figures)
    )
