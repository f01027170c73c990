"""The outgoing limiter in Redis: every process sending as one bot shares its buckets.

One Lua script reserves in all the buckets of a step atomically (the same GCRA arithmetic as
limits/rates.py), on Redis's own clock (`TIME`): every process reads the same time, and a call
that waited for a connection cannot book a moment in the past (tests pass a clock of their
own instead). Keys expire once their bucket is at rest. While
Redis cannot be reached, each process keeps limits of its own in memory
(`limits.redis_unavailable`) rather than stop sending.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from magpie.limits.outgoing import (
    ChatRef,
    Level,
    MemoryOutgoing,
    OutgoingRates,
    Slot,
    pause_key,
    pause_keys,
)

log = structlog.get_logger(__name__)
SAY_AGAIN_AFTER = 30.0  # seconds between two `limits.redis_unavailable` lines
AWAY_SECONDS = 5.0  # after a failure, Redis is asked again only this much later

# KEYS: n bucket keys, then pause keys. ARGV: now, within, n, then interval, tolerance per bucket.
_NOW = """
local now
if ARGV[1] == 'server' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
"""
_RESERVE = (
    _NOW
    + """
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
)

# KEYS: the pause key. ARGV: now, seconds.
_PAUSE = (
    _NOW
    + """
local until_ = now + tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '')
if current == nil or current < until_ then
  local ttl = math.ceil(tonumber(ARGV[2]) * 1000) + 1000
  redis.call('SET', KEYS[1], string.format('%.6f', until_), 'PX', ttl)
end
return 1
"""
)


class RedisOutgoing:
    """The limiter shared through Redis; `namespace` keeps bots apart (the bot's id)."""

    def __init__(
        self,
        redis: Redis,
        *,
        namespace: str,
        rates: OutgoingRates | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.redis = redis
        self.rates = rates or OutgoingRates()
        self.clock = clock or time.time  # the fallback's, and the tests' (then Redis uses it)
        self._now: Callable[[], str] = (
            (lambda: "server") if clock is None else (lambda: repr(clock()))
        )
        self.prefix = f"magpie:out:{namespace}:"
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self.fallback = MemoryOutgoing(self.rates, clock=self.clock)  # while Redis is away
        self._said_at: float | None = None
        self._away_until = 0.0

    async def reserve(
        self, chat: ChatRef | None, *, within: float, level: Level = "both", spare: int = 0
    ) -> Slot:
        buckets = self.rates.buckets(chat, level)
        keys = [self.prefix + key for key, _ in buckets]
        keys += [self.prefix + key for key in pause_keys(chat, level)]
        args: list[float | int] = [min(within, 1e9), len(buckets)]
        for _, rate in buckets:
            args += [rate.interval, rate.tolerance_keeping(spare)]
        if self.clock() < self._away_until:
            return await self.fallback.reserve(chat, within=within, level=level, spare=spare)
        try:
            taken, wait = await self._reserve(
                keys=keys, args=[self._now(), *(repr(a) for a in args)]
            )
        except (RedisError, OSError) as error:
            self._unavailable(error)
            return await self.fallback.reserve(chat, within=within, level=level, spare=spare)
        return Slot(bool(int(taken)), float(wait))

    async def pause(self, chat: ChatRef | None, seconds: float) -> None:
        await self.fallback.pause(chat, seconds)  # kept here too, should Redis go away
        key = self.prefix + pause_key(chat)
        if self.clock() < self._away_until:
            return
        try:
            await self._pause(keys=[key], args=[self._now(), repr(seconds)])
        except (RedisError, OSError) as error:
            self._unavailable(error)

    def _unavailable(self, error: Exception) -> None:
        now = self.clock()
        self._away_until = now + AWAY_SECONDS
        if self._said_at is None or now - self._said_at >= SAY_AGAIN_AFTER:
            self._said_at = now
            log.warning("limits.redis_unavailable", limits="outgoing", error=str(error)[:200])
