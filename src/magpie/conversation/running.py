"""The replies being written right now, so /stop and the draft's stop button can end them."""

from __future__ import annotations

import asyncio

from magpie.conversation.types import ConversationKey


class RunningTurns:
    """One generation task per conversation at most."""

    def __init__(self) -> None:
        self._tasks: dict[ConversationKey, asyncio.Task[object]] = {}

    def add(self, key: ConversationKey, task: asyncio.Task[object]) -> None:
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))

    def stop(self, key: ConversationKey) -> bool:
        """Cancel the generation for this conversation; False when nothing is running."""
        task = self._tasks.get(key)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def _forget(self, key: ConversationKey, task: asyncio.Task[object]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
