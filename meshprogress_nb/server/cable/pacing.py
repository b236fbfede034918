"""Per-user pacing of cable commands, so that one user's flood of subscribes or actions cannot take the loop.

Tornado reads a connection's next frame only once the previous one is handled, so a command that waits here
stops its connection being read: the flood backs up in the client's own socket, not in the server.
"""

from __future__ import annotations

BURST_SECONDS = 0.1
"""A user's commands run at once up to a tenth of a second's worth: longer bursts would hold the loop as long."""


class CommandPacer:
    """A token bucket per user: ``rate`` commands a second, in bursts of a tenth of that; later ones wait their turn."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.burst = max(1.0, rate * BURST_SECONDS)
        self._buckets: dict[str, tuple[float, float]] = {}

    def delay(self, user: str, now: float) -> float:
        """Seconds the next command of ``user`` must wait (0: at once); the command is counted either way."""
        tokens, at = self._buckets.get(user, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate) - 1
        self._buckets[user] = (tokens, now)
        return 0.0 if tokens >= 0 else -tokens / self.rate

    def forget(self, user: str) -> None:
        """The user has no connection left here."""
        self._buckets.pop(user, None)
