"""The outgoing limiter in Redis: every process sending as one bot shares its buckets.

One Lua script reserves in all the buckets of a message atomically (the same GCRA arithmetic as
limits/rates.py); times are the callers' clocks (epoch seconds by default, so processes on
several hosts agree as far as their clocks do). Keys expire once their bucket is at rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from redis.asyncio import Redis

from magpie.limits.outgoing import ChatRef, Level, OutgoingRates, Slot, pause_key, pause_keys

# KEYS: n bucket keys, then pause keys. ARGV: now, within, n, then interval, tolerance per bucket.
_RESERVE = """
local now = tonumber(ARGV[1])
local within = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local at = now
local tats = {}
for i = 1, n do
  local tat = tonumber(redis.call('GET', KEYS[i]) or '')
  tats[i] = tat
  if tat ~= nil then
    local allowed = tat - tonumber(ARGV[3 + 2 * i])
    if allowed > at then at = allowed end
  end
end
for i = n + 1, #KEYS do
  local paused = tonumber(redis.call('GET', KEYS[i]) or '')
  if paused ~= nil and paused > at then at = paused end
end
local wait = at - now
if wait > within then return {0, string.format('%.6f', wait)} end
for i = 1, n do
  local tat = tats[i]
  if tat == nil or tat < at then tat = at end
  tat = tat + tonumber(ARGV[2 + 2 * i])
  local ttl = math.ceil((tat - now) * 1000) + 1000
  redis.call('SET', KEYS[i], string.format('%.6f', tat), 'PX', ttl)
end
return {1, string.format('%.6f', wait)}
"""

# KEYS: the pause key. ARGV: now, seconds.
_PAUSE = """
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '')
if current == nil or current < until_ then
  local ttl = math.ceil(tonumber(ARGV[2]) * 1000) + 1000
  redis.call('SET', KEYS[1], string.format('%.6f', until_), 'PX', ttl)
end
return 1
"""


class RedisOutgoing:
    """The limiter shared through Redis; `namespace` keeps bots apart (the bot's id)."""

    def __init__(
        self,
        redis: Redis,
        *,
        namespace: str,
        rates: OutgoingRates | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.rates = rates or OutgoingRates()
        self.clock = clock
        self.prefix = f"magpie:out:{namespace}:"
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)

    async def reserve(self, chat: ChatRef | None, *, within: float, level: Level = "both") -> Slot:
        buckets = self.rates.buckets(chat, level)
        keys = [self.prefix + key for key, _ in buckets]
        keys += [self.prefix + key for key in pause_keys(chat, level)]
        args: list[float | int] = [self.clock(), min(within, 1e9), len(buckets)]
        for _, rate in buckets:
            args += [rate.interval, rate.tolerance]
        taken, wait = await self._reserve(keys=keys, args=[repr(a) for a in args])
        return Slot(bool(int(taken)), float(wait))

    async def pause(self, chat: ChatRef | None, seconds: float) -> None:
        key = self.prefix + pause_key(chat)
        await self._pause(keys=[key], args=[repr(self.clock()), repr(seconds)])
