"""Who administers a chat, asked from Telegram and remembered for a few minutes."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError


class ChatAdmins:
    """getChatAdministrators, cached per chat (admins change rarely; answers must be quick)."""

    def __init__(
        self, bot: Bot, *, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.bot = bot
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        if chat_id > 0:
            return chat_id == user_id  # a private chat belongs to its person
        cached = self._cache.get(chat_id)
        if cached is None or self.clock() - cached[0] > self.ttl:
            try:
                admins = await self.bot.get_chat_administrators(chat_id)
            except TelegramAPIError:
                return False
            cached = (self.clock(), frozenset(member.user.id for member in admins))
            self._cache[chat_id] = cached
        return user_id in cached[1]

    def forget(self, chat_id: int) -> None:
        self._cache.pop(chat_id, None)
