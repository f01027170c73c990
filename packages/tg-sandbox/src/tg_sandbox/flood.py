"""Outgoing flood control per bot, the way Telegram's limits are documented (Bots FAQ)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tg_sandbox.clock import Clock
from tg_sandbox.errors import too_many_requests


@dataclass(frozen=True, slots=True)
class FloodPolicy:
    """Token-bucket limits; `enabled=False` turns flood control off (unit tests, benchmarks)."""

    enabled: bool = True
    per_chat_rate: float = 1.0  # messages per second in one chat
    per_chat_burst: float = 3.0
    per_group_per_minute: float = 20.0
    global_rate: float = 30.0  # messages per second across all chats
    global_burst: float = 30.0

    @classmethod
    def named(cls, mode: str) -> FloodPolicy:
        """`off` or `telegram` (the default, FAQ numbers)."""
        if mode == "off":
            return cls(enabled=False)
        if mode == "telegram":
            return cls()
        raise ValueError(f"unknown flood mode {mode!r}: expected 'off' or 'telegram'")


class _Bucket:
    """Capacity `burst`, refilled at `rate` tokens per second."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.updated = rate, burst, burst, now

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class FloodControl:
    """Answers 429 with retry_after when a bot sends faster than Telegram allows."""

    def __init__(self, policy: FloodPolicy, clock: Clock) -> None:
        self.policy = policy
        self._clock = clock
        self._buckets: dict[tuple[int, str, int], _Bucket] = {}

    def spend(self, bot_id: int, chat_id: int, *, is_group: bool) -> None:
        """Take one message's worth from every bucket that applies, or raise 429."""
        policy = self.policy
        if not policy.enabled:
            return
        now = self._clock.now()
        buckets = [
            self._bucket((bot_id, "chat", chat_id), policy.per_chat_rate, policy.per_chat_burst),
            self._bucket((bot_id, "all", 0), policy.global_rate, policy.global_burst),
        ]
        if is_group:
            per_minute = policy.per_group_per_minute
            buckets.append(self._bucket((bot_id, "group", chat_id), per_minute / 60, per_minute))
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.tokens -= 1

    def reset(self) -> None:
        self._buckets.clear()

    def _bucket(self, key: tuple[int, str, int], rate: float, burst: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate, burst, self._clock.now())
        return bucket
