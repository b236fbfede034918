"""Fixtures of the worker tests: a recording stand-in for the hub's callback route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from callback_recorder import RecordingHub


@pytest.fixture
def recording_hub() -> Iterator[RecordingHub]:
    hub = RecordingHub()
    yield hub
    if hub.server is not None:
        hub.stop()
