"""What one person may ask of Magpie: messages and model tokens per minute and per day.

The rule lives in `UserLimits`: before a turn, `admit` counts the message and says whether it
may go to the model (one call, one round trip in Redis); after the turn, `spend` adds the tokens
it used. Windows are fixed (this minute, this UTC day), so "when can I write again" is exact.
A refused person is told once per window; further messages in it are only remembered.
Counting is behind the `Counters` port: `MemoryCounters` here, `RedisCounters` in
limits/redis_users.py for several processes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

from magpie.texts import Texts

MINUTE, DAY = 60, 86_400


@dataclass(frozen=True, slots=True)
class UserQuota:
    """Per person; 0 turns a limit off."""

    messages_per_minute: int = 10
    messages_per_day: int = 300
    tokens_per_minute: int = 100_000
    tokens_per_day: int = 1_000_000


class Check(NamedTuple):
    """One counter: refuse when it has reached `limit`; else add `add`. It lives until `ends`."""

    name: str  # which limit: messages_per_minute, …
    key: str
    limit: int
    add: int
    ends: float


class Refusal(NamedTuple):
    """The check that refused (the one that ends last), and whether to tell the person."""

    check: Check
    tell: bool


class Counters(Protocol):
    async def admit(self, checks: Sequence[Check], *, now: float) -> Refusal | None:
        """Atomically: if any counter has reached its limit, refuse (add nothing); else add."""
        ...

    async def add(self, counts: Sequence[tuple[str, int, float]], *, now: float) -> None:
        """Add (key, amount, ends) to counters."""
        ...


@dataclass(frozen=True, slots=True)
class Verdict:
    """May this message go to the model? If not: which limit, until when, and say so or not."""

    allowed: bool
    limit: str = ""
    until: float = 0.0  # epoch seconds
    tell: bool = False


ALLOWED = Verdict(True)


class UserLimits:
    """The per-user rule: the windows, who is exempt, what a refusal says."""

    def __init__(
        self,
        counters: Counters,
        quota: UserQuota | None = None,
        *,
        clock: Callable[[], float] = time.time,
        on_refused: Callable[[str], None] = lambda limit: None,
    ) -> None:
        self.counters = counters
        self.quota = quota or UserQuota()
        self.clock = clock
        self.on_refused = on_refused  # the metric, counted by limit name

    async def admit(self, user_id: int, *, exempt: bool = False) -> Verdict:
        """Count one message from `user_id`; whether it may be answered."""
        if exempt:
            return ALLOWED
        now = self.clock()
        checks = [c for c in self._checks(user_id, now) if c.limit > 0]
        if not checks:
            return ALLOWED
        refusal = await self.counters.admit(checks, now=now)
        if refusal is None:
            return ALLOWED
        self.on_refused(refusal.check.name)
        return Verdict(False, refusal.check.name, refusal.check.ends, refusal.tell)

    async def spend(self, user_id: int, tokens: int, *, exempt: bool = False) -> None:
        """Add the tokens a turn used to the person's counters."""
        if exempt or tokens <= 0 or not (self.quota.tokens_per_minute or self.quota.tokens_per_day):
            return
        now = self.clock()
        counts = [(c.key, tokens, c.ends) for c in self._checks(user_id, now) if c.add == 0]
        await self.counters.add(counts, now=now)

    def _checks(self, user_id: int, now: float) -> list[Check]:
        minute, day = int(now // MINUTE), int(now // DAY)
        minute_ends, day_ends = float((minute + 1) * MINUTE), float((day + 1) * DAY)
        quota, base = self.quota, f"user:{user_id}"
        return [
            Check(
                "messages_per_minute",
                f"{base}:m:{minute}",
                quota.messages_per_minute,
                1,
                minute_ends,
            ),
            Check("messages_per_day", f"{base}:md:{day}", quota.messages_per_day, 1, day_ends),
            Check(
                "tokens_per_minute", f"{base}:t:{minute}", quota.tokens_per_minute, 0, minute_ends
            ),
            Check("tokens_per_day", f"{base}:td:{day}", quota.tokens_per_day, 0, day_ends),
        ]

    def refusal_text(self, verdict: Verdict, texts: Texts) -> str:
        """One short, friendly sentence: which limit, and when the person can write again."""
        names = {
            "messages_per_minute": (
                texts.limit_messages_per_minute,
                self.quota.messages_per_minute,
            ),
            "messages_per_day": (texts.limit_messages_per_day, self.quota.messages_per_day),
            "tokens_per_minute": (texts.limit_tokens_per_minute, self.quota.tokens_per_minute),
            "tokens_per_day": (texts.limit_tokens_per_day, self.quota.tokens_per_day),
        }
        text, quota = names[verdict.limit]
        limit = text.format(n=f"{quota:,}")
        seconds = max(1, math.ceil(verdict.until - self.clock()))
        if seconds <= 90:
            when = texts.limit_again_in.format(seconds=seconds)
        else:
            at = datetime.fromtimestamp(verdict.until, UTC)
            when = texts.limit_again_at.format(time=at.strftime("%H:%M"))
        return texts.user_limited.format(limit=limit, when=when)


class MemoryCounters:
    """Counters in one process's memory; expired windows are dropped as time goes on."""

    SWEEP_EVERY = 1024

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._told: dict[str, float] = {}
        self._calls = 0

    async def admit(self, checks: Sequence[Check], *, now: float) -> Refusal | None:
        self._calls += 1
        if self._calls % self.SWEEP_EVERY == 0:
            self._sweep(now)
        over = [c for c in checks if self._value(c.key, now) >= c.limit]
        if over:
            binding = max(over, key=lambda c: c.ends)
            told = self._told.get(binding.key, 0.0) > now
            self._told[binding.key] = binding.ends
            return Refusal(binding, not told)
        await self.add([(c.key, c.add, c.ends) for c in checks if c.add], now=now)
        return None

    async def add(self, counts: Sequence[tuple[str, int, float]], *, now: float) -> None:
        for key, amount, ends in counts:
            self._counts[key] = (self._value(key, now) + amount, ends)

    def __len__(self) -> int:
        return len(self._counts) + len(self._told)

    def _value(self, key: str, now: float) -> int:
        value, ends = self._counts.get(key, (0, 0.0))
        return value if ends > now else 0

    def _sweep(self, now: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        self._told = {k: ends for k, ends in self._told.items() if ends > now}
