"""Updates of one conversation (a chat, or a forum topic) are handled in order; different
conversations run concurrently, so a long answer in one topic never holds up another."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import Message, Update

from magpie.telegram.incoming import conversation_key

Job = Callable[[], Awaitable[None]]
Lane = tuple[int, int]  # (chat id, topic thread id or 0)


def conversation_of(update: Update) -> Lane | None:
    """The conversation an update belongs to, for ordering (None: order does not matter)."""
    for message in (
        update.message,
        update.edited_message,
        update.channel_post,
        update.edited_channel_post,
    ):
        if message is not None:
            key = conversation_key(message)
            return key.chat_id, key.thread_id
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        key = conversation_key(query.message)  # a button answers in the message's topic
        return key.chat_id, key.thread_id
    if query is not None and query.message is not None:
        return query.message.chat.id, 0
    stopped = update.stopped_message_generation
    if stopped is not None:
        return stopped.chat.id, stopped.message_thread_id or 0
    for member in (update.my_chat_member, update.chat_member):
        if member is not None:
            return member.chat.id, 0
    if update.pre_checkout_query is not None:
        return update.pre_checkout_query.from_user.id, 0
    return None


def is_urgent(update: Update, username: str) -> bool:
    """Stop requests must not wait behind the reply they are meant to stop, nor a checkout
    behind anything: Telegram wants its answer within 10 seconds."""
    if update.stopped_message_generation is not None or update.pre_checkout_query is not None:
        return True
    message = update.message
    if message is None or not message.text:
        return False
    words = message.text.split(maxsplit=1)
    return bool(words) and words[0].lower() in ("/stop", f"/stop@{username.lower()}")


# Updates held in memory before polling stops fetching more: a backlog beyond this waits at
# Telegram (which keeps updates for a day), not in Magpie's memory. Ten batches of getUpdates.
MAX_BACKLOG = 1000


class ChatQueues:
    """One FIFO per conversation, drained by one task at a time; urgent jobs skip the line.

    `room()` is the backpressure: it waits while `backlog` (jobs submitted, not finished)
    is at `max_backlog`, so whoever fetches updates fetches no faster than they are handled."""

    def __init__(self, *, limit: int = 256, max_backlog: int = MAX_BACKLOG) -> None:
        self._queues: dict[Lane, list[Job]] = {}
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self.max_backlog = max_backlog
        self.backlog = 0
        self._has_room = asyncio.Event()
        self._has_room.set()

    async def room(self) -> None:
        """Return once fewer than `max_backlog` jobs wait or run."""
        await self._has_room.wait()

    def _taken(self) -> None:
        self.backlog += 1
        if self.backlog >= self.max_backlog:
            self._has_room.clear()

    def _finished(self) -> None:
        self.backlog -= 1
        if self.backlog < self.max_backlog:
            self._has_room.set()

    def submit(self, lane: Lane | None, job: Job, *, urgent: bool = False) -> None:
        if self._closing:
            return  # shutting down: the update stays pending in the inbox for the next start
        self._taken()
        if lane is None or urgent:
            self._spawn(self._run_one(job))
            return
        queue = self._queues.get(lane)
        if queue is not None:
            queue.append(job)
            return
        self._queues[lane] = [job]
        self._spawn(self._drain(lane))

    async def join(self) -> None:
        """Wait until every submitted job has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def settle(self, grace: float) -> int:
        """Shutting down: start nothing new, let what runs finish within `grace` seconds,
        cancel the rest. Returns how many were cut short (their updates stay pending)."""
        self._closing = True
        running = list(self._tasks)
        if not running:
            return 0
        _, late = await asyncio.wait(running, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        return len(late)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_one(self, job: Job) -> None:
        try:
            async with self._slots:
                if not self._closing:
                    await job()
        finally:
            self._finished()

    async def _drain(self, lane: Lane) -> None:
        queue = self._queues[lane]
        try:
            async with self._slots:
                while queue and not self._closing:
                    job = queue.pop(0)
                    try:
                        await job()
                    finally:
                        self._finished()
        finally:
            for _ in queue:  # left behind by a shutdown: pending in the inbox, not in memory
                self._finished()
            del self._queues[lane]
