"""Ids that never come back: after the store loses its data, new ids start above every id issued before.

A mesh or batch id is what a cable subscription, a REST client, a widget saved in a notebook and a worker's token
name a job by. If a store that lost its data (a Redis without persistence restarted, a FLUSHDB, a deleted SQLite
file) counted from 1 again, those old names would reach another user's new job. So a counter that is missing is
not started at 0 but at a floor that only grows: the microseconds since :data:`EPOCH` on the store's clock. Every
id issued after a loss is then larger than every id issued before it, provided fewer ids were issued since the
counter was last seeded than microseconds have passed (on average under one id per microsecond: a million jobs a
second, sustained, where a busy hub creates a few thousand) and the store's clock did not go back by more than
that margin.

Ids stay below 2**53, which JavaScript numbers hold exactly, for 285 years after :data:`EPOCH` at that rate. The
Redis script writes after reading ``TIME``, which Redis allows from 5.0 on (scripts replicate their effects).
Seeding costs one comparison per issue while the counter exists (Redis: an ``INCRBY`` inside a script instead of
a bare ``INCR``; SQLite: nothing, the sequence is seeded when the store opens); ``bench/ids.py`` measures it.
"""

from __future__ import annotations

import time

EPOCH = 1_735_689_600
"""2025-01-01T00:00:00Z, in seconds: ids are microseconds since then, plus the ids issued since the last seed."""


def floor(ns: int | None = None) -> int:
    """The first id after a loss at ``ns`` (nanoseconds since the Unix epoch; default: now)."""
    now = time.time_ns() if ns is None else ns
    return max(0, now // 1000 - EPOCH * 1_000_000)


NEXT_IDS_FUNCTION = f"""
local function next_ids(key, n)
  local last = redis.call('INCRBY', key, n)
  if last == n then
    local now = redis.call('TIME')
    local seconds = tonumber(now[1]) - {EPOCH}
    if seconds > 0 then
      last = redis.call('INCRBY', key, seconds .. string.format('%06d', tonumber(now[2])))
    end
  end
  return last
end
"""
"""Lua: add ``n`` to the counter at ``key`` and return its new value, the last of ``n`` new ids; a counter that was
missing is first moved to the floor. The floor is written as digits (seconds, then six digits of microseconds),
never through a Lua number, which Lua would print in exponent form past 10**14."""

NEXT_IDS = (
    NEXT_IDS_FUNCTION
    + """
return next_ids(KEYS[1], tonumber(ARGV[1]))
"""
)
"""Lua: KEYS[1] the counter, ARGV[1] how many ids; returns the last of them."""
