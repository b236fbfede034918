"""What ids that never come back, and quotas, cost a job's creation in the Redis store, as ratios in one run.

    PYTHONPATH=. python bench/id_scheme.py [--creates 500] [--rounds 20]

Three ways of issuing a new mesh's id, each followed by the same write of the mesh (``RedisBackend.create_mesh``,
one transaction), in one process, one creation at a time (what one API request does):

- ``incr``: a bare ``INCRBY`` on the counter (ids restart at 1 after a loss: the scheme before issue 11);
- ``ids``: the seeding script of ``backends/ids.py`` (no quota);
- ``ids+quotas``: the admission script with the default quotas (checks, the ids added to the user's active set, the
  minute's bucket).

Short rounds alternate the three so that a busy machine slows each alike; the figure is the median over rounds of
each one's rate over the ``incr`` rate of the same round. ``bench/run.py`` runs it before the systems;
docs/benchmarks.md has the latest figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from typing import Any

import redis
import report

from meshprogress_nb.server.backends import MeshSpec
from meshprogress_nb.server.backends.redis import RedisBackend
from meshprogress_nb.server.config import MeshProgress
from meshprogress_nb.server.quotas import NO_QUOTA, Quota


class PlainIncr(RedisBackend):
    """The baseline: ids from a bare INCRBY, as before ids were seeded."""

    async def mesh_ids(self, user: str, count: int, now: float, quota: Quota) -> int:
        return int(await self.redis.incrby(self.key("mesh:next_id"), count))


async def _rate(backend: RedisBackend, creates: int, quota: Quota) -> float:
    user = f"bench-{uuid.uuid4().hex[:8]}"  # a fresh user a round: the quotas' counts start at 0
    spec = MeshSpec(user, "images/a.png", "job")
    started = time.perf_counter()
    for _ in range(creates):
        await backend.create_mesh(spec, time.time(), quota)
    return creates / (time.perf_counter() - started)


async def _measure(redis_url: str, prefix: str, creates: int, rounds: int) -> dict[str, Any]:
    defaults = MeshProgress(secret="x" * 32)
    quota = Quota(defaults.max_active_jobs_per_user, defaults.max_jobs_per_minute_per_user)
    variants = {
        "incr": (PlainIncr(redis_url, prefix + "incr:"), NO_QUOTA),
        "ids": (RedisBackend(redis_url, prefix + "ids:"), NO_QUOTA),
        "ids+quotas": (RedisBackend(redis_url, prefix + "quotas:"), quota),
    }
    rates: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for backend, used in variants.values():
            await _rate(backend, 50, used)  # warm-up: connections open, scripts loaded
        for _ in range(rounds):
            for name, (backend, used) in variants.items():
                rates[name].append(await _rate(backend, creates, used))
    finally:
        for backend, _ in variants.values():
            await backend.redis.aclose()
    return {
        "creates": creates,
        "rounds": rounds,
        "per_s": {name: round(statistics.median(values)) for name, values in rates.items()},
        "ratio": {  # per round, against the incr of the same round: a load that comes and goes cancels out
            name: round(statistics.median(r / base for r, base in zip(values, rates["incr"], strict=True)), 3)
            for name, values in rates.items()
        },
    }


def measure(redis_url: str, prefix: str, creates: int, rounds: int) -> dict[str, Any]:
    """Creations a second of each scheme (medians of ``rounds``) and their ratios to ``incr``; keys removed after."""
    try:
        return asyncio.run(_measure(redis_url, prefix, creates, rounds))
    finally:
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        client.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--creates", type=int, default=500, help="creations per round and scheme")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    result = measure(args.redis_url, f"bench-ids-{uuid.uuid4().hex[:8]}:", args.creates, args.rounds)
    print(json.dumps(result), file=sys.stderr)
    print(report.id_scheme_line(result))


if __name__ == "__main__":
    main()
