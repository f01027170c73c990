"""Group commit: many small writes carried by one transaction, each caller waiting for it.

SQLite has one writer, and a write transaction on aiosqlite is a chain of thread hops that each
wait for the busy event loop; under load a turn's own transaction could take tens of ms while
every other turn waits for the lock. Batching the writes that arrive meanwhile keeps the cost per
turn flat (one INSERT per table per batch) on SQLite and PostgreSQL alike.

A caller's `submit` returns once its write is committed, so what it wrote is durable and visible
to whatever it does next. If a batch fails, its items are retried one by one, so one bad write
fails only its own caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
Write = Callable[[list[T]], Awaitable[None]]


class GroupCommit(Generic[T]):
    """Queue writes; one task writes whatever has queued up, `most` at a time."""

    def __init__(self, write: Write[T], *, most: int = 500) -> None:
        self._write = write
        self._most = most
        self._queue: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        done = asyncio.get_running_loop().create_future()
        self._queue.append((item, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        await done

    async def close(self) -> None:
        """Let the writes already queued finish (at shutdown, before the database closes)."""
        while self._writer is not None:
            await asyncio.wait({self._writer})

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future[None]]] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[: self._most], self._queue[self._most :]
                try:
                    await self._write([item for item, _ in batch])
                except Exception:
                    await self._one_by_one(batch)
                else:
                    for _, done in batch:
                        _settle(done)
                batch = []
        except BaseException:  # cancelled at shutdown: nobody is left waiting forever
            for _, done in [*batch, *self._queue]:
                done.cancel()
            self._queue.clear()
            raise
        finally:
            self._writer = None

    async def _one_by_one(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        for item, done in batch:
            try:
                await self._write([item])
            except Exception as error:
                _settle(done, error)
            else:
                _settle(done)


def _settle(done: asyncio.Future[None], error: BaseException | None = None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
