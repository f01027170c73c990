"""A bot's update queue: sequential ids, 24-hour retention, confirmation by offset, waiting."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from tg_sandbox.clock import Clock

RETENTION_SECONDS = 24 * 60 * 60
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass(frozen=True, slots=True)
class QueuedUpdate:
    """One update as the bot will receive it, plus what ordering and expiry need."""

    update_id: int
    kind: str
    payload: dict[str, Any]
    created_at: float
    chat_key: int | None

    def as_json(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.kind: self.payload}


def wanted(kind: str, allowed_updates: list[str] | None) -> bool:
    """Whether `allowed_updates` lets this kind through (empty or missing means the default)."""
    if not allowed_updates:
        return kind not in DEFAULT_EXCLUDED
    return kind in allowed_updates


class UpdateQueue:
    """Updates waiting for a bot, oldest first; waiters wake when one arrives."""

    def __init__(self, clock: Clock, first_id: int) -> None:
        self.clock = clock
        self.pushes = 0  # bumps on every push, so a waiter can tell it missed nothing
        self._items: deque[QueuedUpdate] = deque()
        self._next_id = first_id
        self._waiters: list[asyncio.Future[None]] = []

    def __len__(self) -> int:
        self._expire()
        return len(self._items)

    def push(self, kind: str, payload: dict[str, Any], *, chat_key: int | None) -> QueuedUpdate:
        update = QueuedUpdate(self._next_id, kind, payload, self.clock.now(), chat_key)
        self._next_id += 1
        self._items.append(update)
        self.pushes += 1
        self._wake()
        return update

    def confirm(self, offset: int) -> None:
        """offset > 0 forgets updates below it; offset -N keeps only the last N."""
        if offset > 0:
            while self._items and self._items[0].update_id < offset:
                self._items.popleft()
        elif offset < 0:
            while len(self._items) > -offset:
                self._items.popleft()

    def take(self, limit: int) -> list[QueuedUpdate]:
        self._expire()
        return [self._items[i] for i in range(min(limit, len(self._items)))]

    def holds(self, update_id: int) -> bool:
        self._expire()
        return any(item.update_id == update_id for item in self._items)

    def remove(self, update_id: int) -> None:
        """Drop one update (delivered by webhook, possibly out of order across chats)."""
        for item in self._items:
            if item.update_id == update_id:
                self._items.remove(item)
                return

    def clear(self) -> None:
        self._items.clear()

    async def wait(self, seconds: float, *, pushes_seen: int | None = None) -> None:
        """Return when an update is waiting (or, given `pushes_seen`, a new one arrived)."""
        if seconds <= 0:
            return
        if pushes_seen is None and self._items:
            return
        if pushes_seen is not None and pushes_seen != self.pushes:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), seconds)
        except TimeoutError:
            pass
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _expire(self) -> None:
        horizon = self.clock.now() - RETENTION_SECONDS
        while self._items and self._items[0].created_at < horizon:
            self._items.popleft()
