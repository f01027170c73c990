"""Which group messages a bot receives: Telegram's privacy mode."""

from __future__ import annotations

from typing import Any

from tg_sandbox.bots import BotAccount
from tg_sandbox.model import Chat, Message

SERVICE_KEYS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "group_chat_created",
        "supergroup_chat_created",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "successful_payment",
        "refunded_payment",
    }
)


def is_service(message: Message) -> bool:
    return not SERVICE_KEYS.isdisjoint(message.content)


def _entities(message: Message) -> list[dict[str, Any]]:
    raw = message.content.get("entities") or message.content.get("caption_entities") or []
    return [e for e in raw if isinstance(e, dict)]


def _slice_utf16(text: str, offset: int, length: int) -> str:
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


def addresses(bot: BotAccount, chat: Chat, message: Message) -> bool:
    """A command for this bot, a mention of it, or a reply to one of its messages."""
    if message.reply_to is not None:
        target = chat.messages.get(message.reply_to)
        if target is not None and target.sender_id == bot.id:
            return True
    text = message.content.get("text") or message.content.get("caption") or ""
    username = bot.username.lower()
    for entity in _entities(message):
        kind = entity.get("type")
        if kind == "text_mention" and entity.get("user", {}).get("id") == bot.id:
            return True
        if kind not in ("mention", "bot_command"):
            continue
        word = _slice_utf16(text, int(entity["offset"]), int(entity["length"])).lower()
        if kind == "mention" and word == f"@{username}":
            return True
        if kind == "bot_command":
            _, _, target_name = word.partition("@")
            if target_name == username:
                return True
            if not target_name and _general_command_reaches(bot, chat):
                return True
    return False


def _general_command_reaches(bot: BotAccount, chat: Chat) -> bool:
    """An unaddressed /command reaches a bot unless another bot spoke in the chat more recently."""
    return chat.last_bot_sender in (None, bot.id)


def receives(bot: BotAccount, chat: Chat, message: Message, *, sender_is_bot: bool) -> bool:
    """Whether `bot` gets an update for `message` posted in `chat`."""
    if chat.type == "private":
        return chat.owner_bot_id == bot.id and message.sender_id != bot.id
    member = chat.member(bot.id)
    if member is None or message.sender_id == bot.id or sender_is_bot:
        return False
    if chat.type == "channel":
        return member.is_admin
    if not bot.privacy_mode or member.is_admin or is_service(message):
        return True
    return addresses(bot, chat, message)
