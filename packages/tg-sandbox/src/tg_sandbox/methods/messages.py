"""Sending, editing, forwarding, copying and deleting text messages; reactions."""

from __future__ import annotations

from typing import Any

from tg_sandbox import formatting
from tg_sandbox.errors import bad_request
from tg_sandbox.methods.call import Call
from tg_sandbox.methods.common import (
    editable_message,
    parse_formatted,
    reply_markup,
    send,
    text_content,
    thread_id,
)
from tg_sandbox.model import Message
from tg_sandbox.params import json_int
from tg_sandbox.render import message_json, user_json

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
MEDIA_KEYS = ("photo", "document", "voice", "audio", "video", "animation", "sticker", "video_note")


async def send_message(call: Call) -> dict[str, Any]:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    text, entities = parse_formatted(call, text_key="text")
    return send(call, chat, text_content(text, entities))


def _edited(call: Call, message: Message, content: dict[str, Any]) -> dict[str, Any]:
    """Apply an edit, refusing one that changes nothing, as Telegram does."""
    markup = reply_markup(call)
    new = {key: value for key, value in content.items() if value}
    old = {key: message.content[key] for key in content if key in message.content}
    if new == old and markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    chat = message.chat
    call.world.flood.spend(call.bot.id, chat.id, is_group=chat.type != "private")
    for key in content:
        message.content.pop(key, None)
    message.content |= new
    message.reply_markup = markup
    message.edit_date = call.world.now()
    call.world.announce(chat, message, "edited_message")
    return message_json(call.world.users, message)


async def edit_message_text(call: Call) -> dict[str, Any] | bool:
    _, message = editable_message(call)
    if "text" not in message.content:
        raise bad_request("there is no text in the message to edit")
    text, entities = parse_formatted(call, text_key="text")
    detected = formatting.with_auto_entities(text, entities)
    return _edited(call, message, {"text": text, "entities": detected})


async def edit_message_caption(call: Call) -> dict[str, Any] | bool:
    _, message = editable_message(call)
    if not any(key in message.content for key in MEDIA_KEYS):
        raise bad_request("there is no caption in the message to edit")
    caption, entities = parse_formatted(
        call, text_key="caption", entities_key="caption_entities", caption=True
    )
    return _edited(call, message, {"caption": caption, "caption_entities": entities})


async def edit_message_reply_markup(call: Call) -> dict[str, Any] | bool:
    _, message = editable_message(call)
    markup = reply_markup(call)
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.reply_markup = markup
    message.edit_date = call.world.now()
    call.world.announce(message.chat, message, "edited_message")
    return message_json(call.world.users, message)


def _delete(call: Call, message_ids: list[int]) -> bool:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    found = [chat.messages.get(i) for i in message_ids]
    present = [m for m in found if m is not None]
    if not present:
        raise bad_request("message to delete not found")
    member = chat.member(call.bot.id)
    can_delete_others = chat.type == "private" or (
        member is not None
        and (member.status == "creator" or "can_delete_messages" in member.rights)
    )
    for message in present:
        if message.sender_id != call.bot.id and not can_delete_others:
            raise bad_request("message can't be deleted")
    for message in present:
        del chat.messages[message.message_id]
    return True


async def delete_message(call: Call) -> bool:
    return _delete(call, [call.params.integer("message_id")])


async def delete_messages(call: Call) -> bool:
    ids = call.params.json("message_ids", "can't parse message identifiers JSON object")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request(
            "too many messages to delete"
            if isinstance(ids, list)
            else "message identifiers are not specified"
        )
    numbers = [json_int(i) for i in ids]
    if any(n is None for n in numbers):
        raise bad_request("can't parse message identifiers JSON object")
    return _delete(call, [n for n in numbers if n is not None])


def _source_message(call: Call) -> Message:
    source_chat = call.world.resolve_chat(call.bot, call.params.get("from_chat_id"))
    message = source_chat.messages.get(call.params.integer("message_id"))
    if message is None:
        raise bad_request(
            "message to forward not found"
            if call.method == "forwardmessage"
            else "message to copy not found"
        )
    return message


async def forward_message(call: Call) -> dict[str, Any]:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    source = _source_message(call)
    origin = source.forward_origin or _origin_of(call, source)
    topic = thread_id(call, chat)
    call.world.ensure_can_send(call.bot, chat)
    call.world.flood.spend(call.bot.id, chat.id, is_group=chat.type != "private")
    message = call.world.post(
        chat, call.bot.user, dict(source.content), thread_id=topic, forward_origin=origin
    )
    return message_json(call.world.users, message)


def _origin_of(call: Call, source: Message) -> dict[str, Any]:
    chat = source.chat
    if chat.type == "channel":
        return {
            "type": "channel",
            "date": source.date,
            "chat": {"id": chat.id, "type": "channel", "title": chat.title or ""},
            "message_id": source.message_id,
        }
    user = call.world.users[source.sender_id] if source.sender_id is not None else None
    if user is None:
        return {"type": "hidden_user", "date": source.date, "sender_user_name": "Unknown"}
    return {"type": "user", "date": source.date, "sender_user": user_json(user)}


async def copy_message(call: Call) -> dict[str, Any]:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    source = _source_message(call)
    if any(
        key in source.content
        for key in ("invoice", "successful_payment", "new_chat_members", "forum_topic_created")
    ):
        raise bad_request("the message can't be copied")
    content = dict(source.content)
    if call.params.has("caption") and any(key in content for key in MEDIA_KEYS):
        caption, entities = parse_formatted(
            call, text_key="caption", entities_key="caption_entities", caption=True
        )
        content.pop("caption_entities", None)
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    message = send(call, chat, content)
    return {"message_id": message["message_id"]}


async def set_message_reaction(call: Call) -> bool:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    message = chat.messages.get(call.params.integer("message_id"))
    if message is None:
        raise bad_request("message to react not found")
    reaction = call.params.json("reaction", "can't parse reaction types JSON object") or []
    if not isinstance(reaction, list) or len(reaction) > 1:
        raise bad_request("REACTIONS_TOO_MANY")
    for item in reaction:
        if not isinstance(item, dict) or item.get("type") not in ("emoji", "custom_emoji", "paid"):
            raise bad_request("can't parse ReactionType JSON object")
    call.world.reactions[(chat.id, message.message_id, call.bot.id)] = reaction
    return True
