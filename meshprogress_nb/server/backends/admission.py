"""Redis: a user's quotas checked, the new jobs counted and their ids issued, in one atomic script.

One step, so that two service processes (or two requests on one) cannot both pass the check and both create.
A user's active jobs are the members of a sorted set of mesh ids: the script adds the new ids with their
reservation time as score, and :data:`.redis.SAVE_MESH` removes a mesh when it ends (and adds it back on a retry).
A reservation older than :data:`RESERVATION_GRACE` is looked at once by a later check: kept (score 0) if its mesh
was written, else dropped, so a process that died between the script and the write cannot lock a user out, and
the write of a mesh costs nothing more. Jobs created in the last minute are counted in a hash of one-second buckets
that expires when the user stops creating.
"""

from __future__ import annotations

from ..quotas import WINDOW
from .ids import NEXT_IDS_FUNCTION

RESERVATION_GRACE = 300.0
"""Seconds within which a creation must have written its meshes (a 10,000-member batch takes a few)."""

ADMIT = (
    NEXT_IDS_FUNCTION
    + f"""
local n = tonumber(ARGV[1])
local max_active, max_created, second = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(0', ARGV[6])) do
  if redis.call('EXISTS', ARGV[7] .. id) == 1 then redis.call('ZADD', KEYS[2], 0, id)
  else redis.call('ZREM', KEYS[2], id) end
end
if max_active > 0 then
  local active = redis.call('ZCARD', KEYS[2])
  if active + n > max_active then return {{1, active, 0}} end
end
if max_created > 0 then
  local fields = redis.call('HGETALL', KEYS[3])
  local created, buckets = 0, {{}}
  for i = 1, #fields, 2 do
    local start, count = tonumber(fields[i]), tonumber(fields[i + 1])
    if start <= second - {WINDOW} then redis.call('HDEL', KEYS[3], fields[i])
    else
      created = created + count
      buckets[#buckets + 1] = {{start, count}}
    end
  end
  if created + n > max_created then
    table.sort(buckets, function(a, b) return a[1] < b[1] end)
    local left = created
    for _, bucket in ipairs(buckets) do
      left = left - bucket[2]
      if left + n <= max_created then return {{2, created, bucket[1] + {WINDOW} - second}} end
    end
    return {{2, created, {WINDOW}}}
  end
  redis.call('HINCRBY', KEYS[3], ARGV[5], n)
  redis.call('EXPIRE', KEYS[3], {2 * WINDOW})
end
local last = next_ids(KEYS[1], n)
local members = {{}}
for id = last - n + 1, last do
  members[#members + 1] = ARGV[4]
  members[#members + 1] = string.format('%d', id)
  if #members == 2000 then
    redis.call('ZADD', KEYS[2], unpack(members))
    members = {{}}
  end
end
if #members > 0 then redis.call('ZADD', KEYS[2], unpack(members)) end
return {{0, last, 0}}
"""
)
"""KEYS: the mesh id counter, the user's active set, the user's creation buckets. ARGV: how many jobs, most active
(0: no limit), most per minute (0: no limit), now, now's whole second, reservations older than this are settled,
the prefix of mesh hashes (``mesh:`` with the key prefix).
Returns {0, last id, 0}, or a refusal: {1, active jobs, 0} or {2, jobs created in the window, seconds to wait}."""
