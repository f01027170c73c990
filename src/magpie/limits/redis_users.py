"""Per-user counters in Redis, shared by every process: one Lua script checks and counts.
While Redis cannot be reached, each process counts in its own memory
(`limits.redis_unavailable`)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from magpie.limits.users import Check, MemoryCounters, Refusal

log = structlog.get_logger(__name__)
SAY_AGAIN_AFTER = 30.0  # seconds between two `limits.redis_unavailable` lines
AWAY_SECONDS = 5.0  # after a failure, Redis is asked again only this much later

# KEYS: the counters. ARGV: now, then limit, add, ends per key.
# Returns 0 when admitted, else the 1-based index of the refusing check and 1 to tell, 0 not.
_ADMIT = """
local now = tonumber(ARGV[1])
local binding, binding_ends = 0, -1
for i = 1, #KEYS do
  local limit = tonumber(ARGV[3 * i - 1])
  local ends = tonumber(ARGV[3 * i + 1])
  local value = tonumber(redis.call('GET', KEYS[i]) or '0')
  if value >= limit and ends > binding_ends then binding, binding_ends = i, ends end
end
if binding > 0 then
  local ttl = math.max(1, math.ceil(binding_ends - now))
  local told = redis.call('SET', KEYS[binding] .. ':told', '1', 'NX', 'EX', ttl)
  return {binding, told and 1 or 0}
end
for i = 1, #KEYS do
  local add = tonumber(ARGV[3 * i])
  if add > 0 then
    redis.call('INCRBY', KEYS[i], add)
    redis.call('EXPIRE', KEYS[i], math.max(1, math.ceil(tonumber(ARGV[3 * i + 1]) - now)))
  end
end
return {0, 0}
"""


class RedisCounters:
    def __init__(self, redis: Redis, *, prefix: str = "magpie:limits:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._admit = redis.register_script(_ADMIT)
        self.fallback = MemoryCounters()  # while Redis is away
        self._said_at: float | None = None
        self._away_until = 0.0

    async def admit(self, checks: Sequence[Check], *, now: float) -> Refusal | None:
        args: list[str] = [repr(now)]
        for check in checks:
            args += [str(check.limit), str(check.add), repr(check.ends)]
        keys = [self.prefix + check.key for check in checks]
        if time.monotonic() < self._away_until:
            return await self.fallback.admit(checks, now=now)
        try:
            index, tell = await self._admit(keys=keys, args=args)
        except (RedisError, OSError) as error:
            self._unavailable(error)
            return await self.fallback.admit(checks, now=now)
        if int(index) == 0:
            return None
        return Refusal(checks[int(index) - 1], bool(int(tell)))

    async def add(self, counts: Sequence[tuple[str, int, float]], *, now: float) -> None:
        if not counts:
            return
        if time.monotonic() < self._away_until:
            await self.fallback.add(counts, now=now)
            return
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                for key, amount, ends in counts:
                    pipe.incrby(self.prefix + key, amount)
                    pipe.expire(self.prefix + key, max(1, math.ceil(ends - now)))
                await pipe.execute()
        except (RedisError, OSError) as error:
            self._unavailable(error)
            await self.fallback.add(counts, now=now)

    def _unavailable(self, error: Exception) -> None:
        now = time.monotonic()
        self._away_until = now + AWAY_SECONDS
        if self._said_at is None or now - self._said_at >= SAY_AGAIN_AFTER:
            self._said_at = now
            log.warning("limits.redis_unavailable", limits="users", error=str(error)[:200])
