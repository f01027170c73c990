"""What Magpie may send to Telegram: 1 message/s per chat, 20/min per group, ~30/s for the bot,
and a pause after a 429 (for one chat, or the whole bot).

A final message *reserves* its moment in two steps: first in its chat's buckets (the chat, the
group, the chat's pause), and once that moment has come, in the bot's (30/s, the bot's pause).
So a chat with a queue (or a pause) never holds up the others, and the bot's whole rate goes to
messages that may go now, in the order they asked. A preview asks for both levels at once with
`within=0` and `spare=1` — room now in every bucket, with one message to spare for the final
answer, or nothing is taken — so previews are skipped, never queued, and never make the answer
wait. The port has two implementations: `MemoryOutgoing` (one process) and `RedisOutgoing`
(limits/redis_outgoing.py, shared by every process on one Redis).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol

from magpie.limits.rates import Rate, after_sending, earliest

ChatRef = int | str  # a chat id, or a channel's @username
Level = Literal["chat", "bot", "both"]


def is_group(chat: ChatRef) -> bool:
    """Groups, supergroups and channels have negative ids (channels may go by @username)."""
    return isinstance(chat, str) or chat < 0


@dataclass(frozen=True, slots=True)
class OutgoingRates:
    """Telegram's documented limits, with the bursts Magpie allows itself."""

    chat: Rate = field(default_factory=lambda: Rate(1, 1.0, burst=3))
    group: Rate = field(default_factory=lambda: Rate(20, 60.0, burst=5))
    bot: Rate = field(default_factory=lambda: Rate(30, 1.0, burst=10))

    def buckets(self, chat: ChatRef | None, level: Level = "both") -> list[tuple[str, Rate]]:
        """The buckets a message to `chat` (None: no chat, e.g. an inline message) draws on."""
        found = [("bot", self.bot)] if level != "chat" else []
        if chat is not None and level != "bot":
            found.append((f"chat:{chat}", self.chat))
            if is_group(chat):
                found.append((f"group:{chat}", self.group))
        return [(key, rate) for key, rate in found if not rate.unlimited]


def pause_keys(chat: ChatRef | None, level: Level = "both") -> list[str]:
    keys = ["pause:bot"] if level != "chat" else []
    if chat is not None and level != "bot":
        keys.append(f"pause:chat:{chat}")
    return keys


def pause_key(chat: ChatRef | None) -> str:
    """Where a pause of `chat` (None: the whole bot) is kept."""
    return "pause:bot" if chat is None else f"pause:chat:{chat}"


class Slot(NamedTuple):
    """A reservation: taken (go after `wait` seconds), or not (the next room is `wait` away)."""

    taken: bool
    wait: float


class OutgoingLimiter(Protocol):
    async def reserve(
        self, chat: ChatRef | None, *, within: float, level: Level, spare: int = 0
    ) -> Slot:
        """Take the next moment a message to `chat` may go at in the buckets of `level`, if
        it is at most `within` seconds away; otherwise take nothing. `spare`: the moment must
        leave room for that many more (previews keep one for the final message)."""
        ...

    async def pause(self, chat: ChatRef | None, seconds: float) -> None:
        """Nothing goes to `chat` (None: anywhere) for `seconds`: Telegram said so with a 429."""
        ...


class MemoryOutgoing:
    """The limiter for one process. Buckets at rest are forgotten, so memory stays bounded."""

    SWEEP_EVERY = 4096

    def __init__(
        self, rates: OutgoingRates | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rates = rates or OutgoingRates()
        self.clock = clock
        self._tats: dict[str, float] = {}
        self._paused: dict[str, float] = {}
        self._calls = 0

    async def reserve(
        self, chat: ChatRef | None, *, within: float, level: Level = "both", spare: int = 0
    ) -> Slot:
        now = self.clock()
        buckets = self.rates.buckets(chat, level)
        at = now
        for key, rate in buckets:
            at = max(at, earliest(self._tats.get(key), rate, now, spare=spare))
        for key in pause_keys(chat, level):
            at = max(at, self._paused.get(key, now))
        wait = at - now
        if wait > within:
            return Slot(False, wait)
        for key, rate in buckets:
            self._tats[key] = after_sending(self._tats.get(key), rate, at)
        self._calls += 1
        if self._calls % self.SWEEP_EVERY == 0:
            self._sweep(now)
        return Slot(True, wait)

    async def pause(self, chat: ChatRef | None, seconds: float) -> None:
        key = pause_key(chat)
        until = self.clock() + seconds
        self._paused[key] = max(self._paused.get(key, until), until)

    def __len__(self) -> int:
        """Buckets and pauses remembered (for the bounded-state tests)."""
        return len(self._tats) + len(self._paused)

    def _sweep(self, now: float) -> None:
        """A bucket whose TAT has passed is as good as new; a pause that ended is no pause."""
        self._tats = {k: tat for k, tat in self._tats.items() if tat > now}
        self._paused = {k: until for k, until in self._paused.items() if until > now}


@dataclass(slots=True)
class FloodSignals:
    """Which scope a 429 pauses. Telegram's 429 names no scope: one for a call to a chat
    pauses that chat, unless 429s came from `chats` different chats within `window` seconds
    — then the bot as a whole is over its limit, and all of it pauses."""

    chats: int = 3
    window: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _recent: collections.deque[tuple[float, ChatRef]] = field(
        default_factory=lambda: collections.deque(maxlen=64)
    )

    def scope(self, chat: ChatRef | None) -> ChatRef | None:
        """The chat to pause, or None for the whole bot."""
        if chat is None:
            return None
        now = self.clock()
        self._recent.append((now, chat))
        distinct = {c for at, c in self._recent if now - at <= self.window}
        return None if len(distinct) >= self.chats else chat
