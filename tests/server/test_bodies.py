"""A body over its route's limit is read and thrown away before the 413 goes out, so the answer reaches the client
and the connection stays usable (answered unread, the close could reset the connection under the answer)."""

from __future__ import annotations

import socket

import pytest

from meshprogress_nb.server.bodies import DRAIN_BYTES
from support.clients import CALLBACK
from support.server import HubServer

LIMIT = 64 * 1024  # MeshProgress.max_body_bytes by default

ROUTES = [
    (CALLBACK, "X-Callback-Token: x"),
    ("meshprogress/api/v1/meshes", "Authorization: token alice-token"),
    ("meshprogress/api/v1/batches", "Authorization: token alice-token"),
]


def request(path: str, header: str, body: bytes, method: str = "POST") -> bytes:
    head = f"{method} /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{header}\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def response(sock: socket.socket) -> tuple[int, bytes]:
    """One HTTP/1.1 response (status, body) read off ``sock``; its body is Content-Length long."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data[:200]!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return int(lines[0].split()[1]), body


@pytest.mark.parametrize("route", ROUTES, ids=["callback", "meshes", "batches"])
def test_an_over_limit_body_is_read_then_refused_and_the_connection_serves_on(hub: HubServer, route: tuple) -> None:
    path, header = route
    with socket.create_connection(("127.0.0.1", hub.port), timeout=60) as sock:
        sock.sendall(request(path, header, b" " * (LIMIT + 1)))
        status, body = response(sock)
        assert (status, body) == (413, b'{"error": "Request body too large"}')
        # The same connection answers the next request: the refused body was read off it, not left unread.
        sock.sendall(request("meshprogress/api/v1/meshes", "Authorization: token alice-token", b"", "GET"))
        assert response(sock)[0] == 200


def test_a_body_declared_past_the_drain_size_is_refused_before_it_is_sent(hub: HubServer) -> None:
    head = request(CALLBACK, "X-Callback-Token: x", b"").replace(b"Content-Length: 0", b"Content-Length: %d")
    with socket.create_connection(("127.0.0.1", hub.port), timeout=60) as sock:
        sock.sendall(head % (DRAIN_BYTES + 1))
        status, body = response(sock)  # no byte of the body sent: answered at once
        assert (status, body) == (413, b'{"error": "Request body too large"}')
