"""Chats, members and forum topics as a bot sees them."""

from __future__ import annotations

from typing import Any

from tg_sandbox.errors import bad_request
from tg_sandbox.methods.call import Call
from tg_sandbox.model import Chat, Member, Topic
from tg_sandbox.render import chat_full_json, member_json, topic_json
from tg_sandbox.world import World

TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


async def get_chat(call: Call) -> dict[str, Any]:
    return chat_full_json(call.world.resolve_chat(call.bot, call.params.get("chat_id")))


async def get_chat_member(call: Call) -> dict[str, Any]:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    user_id = call.params.integer("user_id")
    user = call.world.users.get(user_id)
    if user is None:
        raise bad_request("invalid user_id specified" if user_id <= 0 else "user not found")
    member = chat.members.get(user_id) or Member(user_id, "left")
    return member_json(member, user)


async def get_chat_administrators(call: Call) -> list[dict[str, Any]]:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    return [
        member_json(member, call.world.users[member.user_id])
        for member in chat.members.values()
        if member.is_admin
    ]


async def get_chat_member_count(call: Call) -> int:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    return sum(1 for member in chat.members.values() if member.is_present)


async def leave_chat(call: Call) -> bool:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    call.world.set_member_status(chat, call.bot.user, "left", by=call.bot.user)
    return True


def _forum(call: Call) -> Chat:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat


def _require_topic_rights(call: Call, chat: Chat) -> None:
    member = chat.member(call.bot.id)
    if member is None or not (member.status == "creator" or "can_manage_topics" in member.rights):
        raise bad_request("not enough rights to manage topics")


def _topic(chat: Chat, call: Call) -> Topic:
    topic = chat.topics.get(call.params.integer("message_thread_id"))
    if topic is None:
        raise bad_request("message thread not found")
    return topic


def _topic_name(call: Call, *, required: bool) -> str | None:
    name = call.params.get("name")
    if name is None:
        if required:
            raise bad_request('parameter "name" is required')
        return None
    if not 1 <= len(name.strip()) <= 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name.strip() else "topic name is too long")
    return name.strip()


async def create_forum_topic(call: Call) -> dict[str, Any]:
    chat = _forum(call)
    _require_topic_rights(call, chat)
    name = _topic_name(call, required=True) or ""
    color = call.params.integer("icon_color", TOPIC_COLORS[0])
    if color not in TOPIC_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")
    topic = call.world.create_topic(
        chat,
        name,
        by=call.bot.user,
        icon_color=color,
        icon_custom_emoji_id=call.params.get("icon_custom_emoji_id"),
    )
    return topic_json(topic)


async def edit_forum_topic(call: Call) -> bool:
    chat = _forum(call)
    _require_topic_rights(call, chat)
    topic = _topic(chat, call)
    name = _topic_name(call, required=False)
    emoji = call.params.get("icon_custom_emoji_id")
    if (name is None or name == topic.name) and (
        emoji is None or emoji == topic.icon_custom_emoji_id
    ):
        raise bad_request("TOPIC_NOT_MODIFIED")
    edited: dict[str, Any] = {}
    if name is not None:
        topic.name = edited["name"] = name
    if emoji is not None:
        topic.icon_custom_emoji_id = emoji or None
        edited["icon_custom_emoji_id"] = emoji
    _service(call.world, call, chat, topic, {"forum_topic_edited": edited})
    return True


async def close_forum_topic(call: Call) -> bool:
    return _set_closed(call, closed=True)


async def reopen_forum_topic(call: Call) -> bool:
    return _set_closed(call, closed=False)


def _set_closed(call: Call, *, closed: bool) -> bool:
    chat = _forum(call)
    _require_topic_rights(call, chat)
    topic = _topic(chat, call)
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    key = "forum_topic_closed" if closed else "forum_topic_reopened"
    _service(call.world, call, chat, topic, {key: {}})
    return True


def _service(world: World, call: Call, chat: Chat, topic: Topic, content: dict[str, Any]) -> None:
    world.post(chat, call.bot.user, content, thread_id=topic.thread_id)
