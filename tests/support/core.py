"""What the in-process ``core`` fixture gives a test: a hub and the clock that drives it."""

from __future__ import annotations

from dataclasses import dataclass

from meshprogress_nb.server.hub import ProgressHub
from support.clock import ManualClock


@dataclass
class Core:
    hub: ProgressHub
    clock: ManualClock
