"""Per-update context: log fields bound once, users and chats remembered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.types import Chat, Message, TelegramObject, Update, User
from dishka import AsyncContainer
from dishka.integrations.aiogram import CONTAINER_NAME

from magpie.storage.directory import ChatInfo, Directory, UserInfo

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def log_context(update: Update) -> dict[str, int]:
    """The ids every log line of an update carries: update_id, and chat_id / user_id if any."""
    context: dict[str, int] = {"update_id": update.update_id}
    where = UserContextMiddleware.resolve_event_context(update)
    if where.chat_id is not None:
        context["chat_id"] = where.chat_id
    if where.user_id is not None:
        context["user_id"] = where.user_id
    return context


class LogContextMiddleware(BaseMiddleware):
    """Bind update_id, chat_id and user_id to every log line of this update.

    aiogram's error handlers run outside this middleware (its ErrorsMiddleware wraps all
    others), so the errors router binds `log_context` itself.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        with structlog.contextvars.bound_contextvars(**log_context(event)):
            return await handler(event, data)


def user_info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
        is_bot=user.is_bot,
    )


def chat_info(chat: Chat) -> ChatInfo:
    title = chat.title or " ".join(p for p in (chat.first_name, chat.last_name) if p) or None
    return ChatInfo(
        id=chat.id,
        type=chat.type,
        title=title,
        username=chat.username,
        is_forum=bool(chat.is_forum),
    )


class DirectoryMiddleware(BaseMiddleware):
    """Upsert the sender, the chat and the topic before any handler runs."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        container: AsyncContainer | None = data.get(CONTAINER_NAME)
        chat: Chat | None = data.get("event_chat")
        user: User | None = data.get("event_from_user")
        if container is not None and (chat is not None or user is not None):
            users = [user_info(user)] if user is not None else []
            topic: tuple[int, str | None] | None = None
            if isinstance(event, Message):
                if event.forum_topic_created is not None and event.message_thread_id:
                    topic = (event.message_thread_id, event.forum_topic_created.name)
                elif event.is_topic_message and event.message_thread_id:
                    topic = (event.message_thread_id, None)
                for member in event.new_chat_members or []:
                    users.append(user_info(member))
            directory = await container.get(Directory)
            await directory.remember(
                users=users, chat=chat_info(chat) if chat is not None else None, topic=topic
            )
        return await handler(event, data)
