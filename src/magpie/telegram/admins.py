"""Who administers a chat, asked from Telegram and remembered briefly (and boundedly)."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from cachetools import TTLCache


class ChatAdmins:
    """getChatAdministrators, cached per chat for `ttl` seconds, for at most `size` chats.

    Every message asks (tools act with the sender's rights), so the answer is remembered; a
    demoted admin keeps their rights at most `ttl` seconds. Changing a chat's settings asks
    Telegram afresh (`fresh=True`).
    """

    def __init__(
        self,
        bot: Bot,
        *,
        ttl: float = 10.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self._cache: TTLCache[int, frozenset[int]] = TTLCache(size, ttl, timer=clock)

    async def is_admin(self, chat_id: int, user_id: int, *, fresh: bool = False) -> bool:
        if chat_id > 0:
            return chat_id == user_id  # a private chat belongs to its person
        admins = None if fresh else self._cache.get(chat_id)
        if admins is None:
            try:
                members = await self.bot.get_chat_administrators(chat_id)
            except TelegramAPIError:
                return False
            admins = self._cache[chat_id] = frozenset(member.user.id for member in members)
        return user_id in admins

    def forget(self, chat_id: int) -> None:
        self._cache.pop(chat_id, None)
