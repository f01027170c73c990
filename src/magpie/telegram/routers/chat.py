"""Ordinary messages: remembered always, answered when meant for Magpie; stop buttons."""

from __future__ import annotations

from dataclasses import replace

from aiogram import F, Router
from aiogram.types import Message, MessageGenerationStopped
from dishka.integrations.aiogram import FromDishka

from magpie.config import Settings
from magpie.conversation.turn import Assistant
from magpie.conversation.types import ConversationKey, Identity
from magpie.observability.metrics import Metrics
from magpie.telegram.admins import ChatAdmins
from magpie.telegram.incoming import to_incoming
from magpie.telegram.streaming import Replies

CONVERSATION_CHATS = {"private", "group", "supergroup"}
SERVICE_ONLY = ("new_chat_members", "left_chat_member", "forum_topic_created", "pinned_message")


async def on_message(
    message: Message,
    assistant: FromDishka[Assistant],
    identity: FromDishka[Identity],
    replies: FromDishka[Replies],
    metrics: FromDishka[Metrics],
    admins: FromDishka[ChatAdmins],
    settings: FromDishka[Settings],
    redelivered: bool = False,
) -> None:
    if any(getattr(message, key, None) for key in SERVICE_ONLY):
        return
    incoming = to_incoming(message, identity)
    user_id = incoming.speaker.id
    incoming = replace(
        incoming,
        is_bot_admin=user_id in settings.bot_admins,
        is_chat_admin=await admins.is_admin(message.chat.id, user_id),
    )
    record = await assistant.on_message(incoming, replies.to(message), redelivered=redelivered)
    if record is not None:
        metrics.observe_turn(record, chat_type=message.chat.type)


async def on_edit(
    message: Message, assistant: FromDishka[Assistant], identity: FromDishka[Identity]
) -> None:
    await assistant.remember_edit(to_incoming(message, identity))


async def on_stop_button(event: MessageGenerationStopped, assistant: FromDishka[Assistant]) -> None:
    await assistant.stop(ConversationKey(event.chat.id, event.message_thread_id or 0))


def router() -> Router:
    chat = Router(name=__name__)
    chat.message.register(on_message, F.chat.type.in_(CONVERSATION_CHATS))
    chat.edited_message.register(on_edit, F.chat.type.in_(CONVERSATION_CHATS))
    chat.stopped_message_generation.register(on_stop_button)
    return chat
