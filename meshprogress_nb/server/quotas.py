"""Quotas per user: most active jobs and most jobs created per minute, checked by the store as it issues ids.

Under JupyterHub every user's jobs go to one service, so one user's runaway loop or oversized sweep must not fill
Redis or take the service's time from everyone else. The counts live in the backend, so that they hold across
every service process on one Redis: the check and the reservation are one atomic step with the issue of the
new jobs' ids, and a batch of N counts N.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

WINDOW = 60
"""Seconds of the creation window: ``max_jobs_per_minute_per_user`` counts the jobs created in the last minute."""

ACTIVE_RETRY_AFTER = 30
"""Retry-After of a refusal for too many active jobs: when jobs finish is the workers' business, so a client is
told to look again in a while (jobs take seconds to minutes)."""


@dataclass(frozen=True)
class Quota:
    """The limits one user's new jobs are checked against; 0 is no limit."""

    max_active: int = 0
    max_per_minute: int = 0

    @property
    def limited(self) -> bool:
        return bool(self.max_active or self.max_per_minute)


NO_QUOTA = Quota()


class QuotaExceeded(Exception):
    """Creating the jobs would exceed a quota (HTTP 429 with Retry-After); nothing was created."""

    def __init__(self, limit: str, value: int, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value
        self.retry_after = retry_after


def too_many_active(user: str, active: int, wanted: int, limit: int) -> QuotaExceeded:
    return QuotaExceeded(
        "max_active_jobs_per_user",
        limit,
        ACTIVE_RETRY_AFTER,
        f"{user} has {active} active (pending or processing) jobs; {wanted} more would exceed "
        f"max_active_jobs_per_user ({limit}). Try again when some have finished.",
    )


def too_many_created(user: str, created: int, wanted: int, limit: int, retry_after: float) -> QuotaExceeded:
    return QuotaExceeded(
        "max_jobs_per_minute_per_user",
        limit,
        max(1, math.ceil(retry_after)),
        f"{user} created {created} jobs in the last minute; {wanted} more would exceed "
        f"max_jobs_per_minute_per_user ({limit}).",
    )


class CreationWindow:
    """Jobs created per user in the last :data:`WINDOW` seconds, in one-second buckets (the embedded store's
    counterpart of the Redis hash the admission script keeps)."""

    def __init__(self) -> None:
        self._buckets: defaultdict[str, dict[int, int]] = defaultdict(dict)

    def admit(self, user: str, wanted: int, now: float, limit: int) -> None:
        """Count ``wanted`` creations of ``user`` at ``now``, or raise QuotaExceeded (nothing counted)."""
        second = int(now)
        buckets = self._buckets[user]
        for stale in [s for s in buckets if s <= second - WINDOW]:
            del buckets[stale]
        created = sum(buckets.values())
        if created + wanted > limit:
            left = created
            for start in sorted(buckets):
                left -= buckets[start]
                if left + wanted <= limit:
                    raise too_many_created(user, created, wanted, limit, start + WINDOW - now)
            raise too_many_created(user, created, wanted, limit, WINDOW)  # more than the limit at once
        buckets[second] = buckets.get(second, 0) + wanted
