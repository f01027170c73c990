"""Updates of one chat are handled in order; different chats run concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import Update

Job = Callable[[], Awaitable[None]]


def chat_of(update: Update) -> int | None:
    """The chat an update belongs to, for ordering (None: no chat, order does not matter)."""
    for event in (
        update.message,
        update.edited_message,
        update.channel_post,
        update.edited_channel_post,
        update.my_chat_member,
        update.chat_member,
        update.stopped_message_generation,
    ):
        chat = getattr(event, "chat", None)
        if chat is not None:
            return int(chat.id)
    if update.callback_query is not None and update.callback_query.message is not None:
        return int(update.callback_query.message.chat.id)
    if update.pre_checkout_query is not None:
        return int(update.pre_checkout_query.from_user.id)
    return None


def is_urgent(update: Update, username: str) -> bool:
    """Stop requests must not wait behind the reply they are meant to stop."""
    if update.stopped_message_generation is not None or update.callback_query is not None:
        return True
    message = update.message
    if message is None or not message.text:
        return False
    words = message.text.split(maxsplit=1)
    return bool(words) and words[0].lower() in ("/stop", f"/stop@{username.lower()}")


class ChatQueues:
    """One FIFO per chat, drained by one task at a time; urgent jobs skip the line."""

    def __init__(self, *, limit: int = 256) -> None:
        self._queues: dict[int, list[Job]] = {}
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[Any]] = set()

    def submit(self, chat_id: int | None, job: Job, *, urgent: bool = False) -> None:
        if chat_id is None or urgent:
            self._spawn(self._run_one(job))
            return
        queue = self._queues.get(chat_id)
        if queue is not None:
            queue.append(job)
            return
        self._queues[chat_id] = [job]
        self._spawn(self._drain(chat_id))

    async def join(self) -> None:
        """Wait until every submitted job has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @property
    def busy(self) -> int:
        return len(self._tasks)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_one(self, job: Job) -> None:
        async with self._slots:
            await job()

    async def _drain(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            async with self._slots:
                while queue:
                    job = queue.pop(0)
                    await job()
        finally:
            del self._queues[chat_id]
