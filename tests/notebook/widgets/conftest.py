"""Fixtures of the widget tests: a notebook client of the hub, as alice."""

from __future__ import annotations

import pytest

import meshprogress_nb
from meshprogress_nb.notebook.client import Jobs
from support.server import HubServer


@pytest.fixture
def jobs(hub: HubServer) -> Jobs:
    return meshprogress_nb.connect(hub.url, "alice-token")
