"""The security suite's hubs: real servers, started with the settings a test gives."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.attack import start_hub
from support.server import HubServer


@pytest.fixture
def hub_factory(tmp_path: Path) -> Iterator[Callable[..., HubServer]]:
    """Start hubs with ``c.MeshProgress`` settings; all are stopped after the test."""
    started: list[HubServer] = []

    def start(**settings: object) -> HubServer:
        server = start_hub(tmp_path / f"hub{len(started)}", **settings)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
