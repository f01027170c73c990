"""Time that passes only when every task is asleep: concurrent senders on a manual clock.

Each task's `sleep` parks it until the clock reaches its wake-up time; when every task being
driven is parked (none is mid-request), the clock jumps to the earliest wake-up and those tasks
go on. So a hundred senders can wait for their turns against a sandbox on the same manual
clock, and what the sandbox sees is exactly the schedule — without a second of real waiting.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


class VirtualTime:
    def __init__(self, now: Callable[[], float], advance: Callable[[float], None]) -> None:
        self.now, self._advance = now, advance
        self.asked: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._changed = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        if seconds <= 0:
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now() + seconds, next(self._order), wake))
        self._changed.set()
        await wake

    async def run(self, work: Iterable[Awaitable[T]]) -> list[T]:
        """Run `work` concurrently to the end, moving the clock whenever all of it sleeps."""
        tasks = [asyncio.ensure_future(w) for w in work]
        for task in tasks:
            task.add_done_callback(lambda _: self._changed.set())
        while True:
            alive = sum(not t.done() for t in tasks)
            if alive == 0:
                break
            if len(self._sleepers) == alive:
                at = self._sleepers[0][0]
                if at > self.now():
                    self._advance(at - self.now())
                while self._sleepers and self._sleepers[0][0] <= self.now():
                    heapq.heappop(self._sleepers)[2].set_result(None)
                continue
            self._changed.clear()
            await self._changed.wait()
        return [t.result() for t in tasks]
