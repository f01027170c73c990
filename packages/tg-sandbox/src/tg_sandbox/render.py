"""Sandbox objects as Bot API JSON: optional fields omitted, never null."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tg_sandbox.model import ADMIN_RIGHTS, Chat, Member, Message, StoredFile, Topic, User

DOWNLOAD_LIMIT = 20 * 1024 * 1024


def user_json(user: User) -> dict[str, Any]:
    data: dict[str, Any] = {"id": user.id, "is_bot": user.is_bot, "first_name": user.first_name}
    if user.last_name:
        data["last_name"] = user.last_name
    if user.username:
        data["username"] = user.username
    if user.language_code:
        data["language_code"] = user.language_code
    if user.is_premium:
        data["is_premium"] = True
    return data


def chat_json(chat: Chat) -> dict[str, Any]:
    data: dict[str, Any] = {"id": chat.id, "type": chat.type}
    for key in ("title", "username", "first_name", "last_name"):
        value = getattr(chat, key)
        if value:
            data[key] = value
    if chat.is_forum:
        data["is_forum"] = True
    return data


def chat_full_json(chat: Chat) -> dict[str, Any]:
    """getChat's answer (ChatFullInfo)."""
    data = chat_json(chat) | {
        "accent_color_id": abs(chat.id) % 7,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }
    return data


def member_json(member: Member, user: User) -> dict[str, Any]:
    data: dict[str, Any] = {"status": member.status, "user": user_json(user)}
    if member.status == "creator":
        data["is_anonymous"] = False
        if member.custom_title:
            data["custom_title"] = member.custom_title
    elif member.status == "administrator":
        data |= {"can_be_edited": False, "is_anonymous": False}
        data |= {right: right in member.rights for right in ADMIN_RIGHTS}
        if member.custom_title:
            data["custom_title"] = member.custom_title
    elif member.status == "restricted":
        data |= {"is_member": True, "until_date": 0} | {
            right: False
            for right in (
                "can_send_messages",
                "can_send_audios",
                "can_send_documents",
                "can_send_photos",
                "can_send_videos",
                "can_send_video_notes",
                "can_send_voice_notes",
                "can_send_polls",
                "can_send_other_messages",
                "can_add_web_page_previews",
                "can_edit_tag",
                "can_change_info",
                "can_invite_users",
                "can_pin_messages",
                "can_manage_topics",
            )
        }
    elif member.status == "kicked":
        data["until_date"] = 0
    return data


def topic_json(topic: Topic) -> dict[str, Any]:
    data: dict[str, Any] = {
        "message_thread_id": topic.thread_id,
        "name": topic.name,
        "icon_color": topic.icon_color,
    }
    if topic.icon_custom_emoji_id:
        data["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
    return data


def message_json(users: Mapping[int, User], message: Message, *, depth: int = 0) -> dict[str, Any]:
    """A message; the message it replies to is included one level deep, as Telegram does."""
    chat = message.chat
    data: dict[str, Any] = {"message_id": message.message_id}
    if message.thread_id is not None:
        data["message_thread_id"] = message.thread_id
    if message.sender_id is not None:
        data["from"] = user_json(users[message.sender_id])
    data["date"] = message.date
    data["chat"] = chat_json(chat)
    if message.forward_origin is not None:
        data["forward_origin"] = message.forward_origin
    if message.is_topic_message:
        data["is_topic_message"] = True
    if message.reply_to is not None and depth == 0:
        target = chat.messages.get(message.reply_to)
        if target is not None:
            data["reply_to_message"] = message_json(users, target, depth=1)
    if message.via_bot_id is not None:
        data["via_bot"] = user_json(users[message.via_bot_id])
    if message.edit_date is not None:
        data["edit_date"] = message.edit_date
    data |= message.content
    if message.reply_markup is not None:
        data["reply_markup"] = message.reply_markup
    return data


def file_json(stored: StoredFile, *, with_path: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if with_path and len(stored.data) <= DOWNLOAD_LIMIT:
        data["file_path"] = stored.path
    return data


def media_fields(kind: str, stored: StoredFile, params: dict[str, Any]) -> Any:
    """The Bot API object a message carries for an uploaded file of this kind."""
    base = file_json(stored)
    if kind == "photo":
        small = base | {"width": 90, "height": 90}
        return [small, base | {"width": 800, "height": 600}]
    if kind in ("voice", "audio", "video"):
        base["duration"] = int(params.get("duration") or 1)
    if kind == "video":
        base |= {
            "width": int(params.get("width") or 640),
            "height": int(params.get("height") or 360),
        }
    if kind in ("document", "audio", "video") and stored.file_name:
        base["file_name"] = stored.file_name
    if stored.mime_type and kind != "photo":
        base["mime_type"] = stored.mime_type
    return base
