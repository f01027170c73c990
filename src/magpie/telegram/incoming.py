"""A Telegram message as the conversation sees it: who, where, what, and whether it addresses us."""

from __future__ import annotations

from aiogram.types import Message, MessageEntity

from magpie.conversation.cleaning import clean_text, clip
from magpie.conversation.types import (
    Addressing,
    ChatType,
    ConversationKey,
    Identity,
    Incoming,
    Speaker,
)

MEDIA_KINDS = (
    "photo",
    "voice",
    "video",
    "video_note",
    "audio",
    "document",
    "sticker",
    "animation",
    "location",
    "contact",
    "poll",
    "dice",
)


def kind_of(message: Message) -> str:
    for kind in MEDIA_KINDS:
        if getattr(message, kind, None) is not None:
            return kind
    return "text" if message.text is not None else "other"


def _utf16_slice(text: str, entity: MessageEntity) -> str:
    data = text.encode("utf-16-le")
    return data[entity.offset * 2 : (entity.offset + entity.length) * 2].decode(
        "utf-16-le", errors="replace"
    )


def addressing(message: Message, me: Identity) -> Addressing:
    """Mentions, text mentions, a leading command, and whether it replies to the bot."""
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or []
    mentions: set[str] = set()
    mentioned_ids: set[int] = set()
    command: str | None = None
    target: str | None = None
    for entity in entities:
        if entity.type == "mention":
            mentions.add(_utf16_slice(text, entity).lstrip("@").lower())
        elif entity.type == "text_mention" and entity.user is not None:
            mentioned_ids.add(entity.user.id)
        elif entity.type == "bot_command" and entity.offset == 0:
            name, _, at = _utf16_slice(text, entity).lstrip("/").partition("@")
            command, target = name.lower(), (at.lower() or None)
    replied = message.reply_to_message
    replies_to_bot = (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.id == me.id
        # in forums every message "replies" to the topic's first message; that is not a reply
        and not (message.is_topic_message and replied.forum_topic_created is not None)
    )
    return Addressing(
        mentions=frozenset(mentions),
        mentioned_ids=frozenset(mentioned_ids),
        command=command,
        command_target=target,
        replies_to_bot=replies_to_bot,
    )


def conversation_key(message: Message) -> ConversationKey:
    """Forum topics are separate conversations; everything else is one per chat."""
    thread = message.message_thread_id if message.is_topic_message else None
    return ConversationKey(message.chat.id, thread or 0)


def speaker(message: Message) -> Speaker:
    if message.sender_chat is not None:
        return Speaker(message.sender_chat.id, message.sender_chat.title or "a channel")
    user = message.from_user
    if user is None:
        return Speaker(0, "someone")
    return Speaker(user.id, clean_text(user.full_name), user.username, user.is_bot)


def to_incoming(message: Message, me: Identity) -> Incoming:
    """The conversation's view of a message; media without text get a short placeholder."""
    kind = kind_of(message)
    text = clip(clean_text(message.text or message.caption or ""))
    readable = bool(text.strip())
    if not readable:
        text = f"[{kind.replace('_', ' ')}]"
    origin = message.forward_origin
    forwarded = None
    if origin is not None:
        sender = getattr(origin, "sender_user", None)
        forwarded = (
            sender.full_name if sender is not None else getattr(origin, "sender_user_name", "")
        ) or "someone"
    if forwarded is not None:
        text = f"[forwarded from {forwarded}] {text}"
    chat_type: ChatType = message.chat.type  # type: ignore[assignment]
    return Incoming(
        key=conversation_key(message),
        message_id=message.message_id,
        chat_type=chat_type,
        speaker=speaker(message),
        text=text,
        sent_at=message.date,
        kind=kind,
        reply_to_message_id=(
            message.reply_to_message.message_id if message.reply_to_message else None
        ),
        addressing=addressing(message, me),
        forwarded_from=forwarded,
        chat_title=message.chat.title,
        readable=readable,
    )


def looks_like_command(message: Message) -> bool:
    """A cheap first look before aiogram's Command filters: text (or a caption) opening with /."""
    text = message.text or message.caption or ""
    return text.startswith("/")
