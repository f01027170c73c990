"""What several methods share: formatted text, reply targets, topics, markup, posting."""

from __future__ import annotations

import json
from typing import Any

from tg_sandbox import formatting
from tg_sandbox.errors import ApiError, bad_request
from tg_sandbox.methods.call import Call
from tg_sandbox.model import Chat, Message
from tg_sandbox.params import json_int
from tg_sandbox.render import message_json

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
RAW_TEXT_BYTES_LIMIT = 32768
CALLBACK_DATA_BYTES = 64
TEXT_BUTTONS = "Text buttons are unallowed in the inline keyboard"


def parse_formatted(
    call: Call,
    *,
    text_key: str,
    mode_key: str = "parse_mode",
    entities_key: str = "entities",
    caption: bool = False,
    allow_empty: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """Text + entities as Telegram stores them, or Telegram's exact complaint."""
    params = call.params
    raw = params.get(text_key)
    if raw is None or raw == "":
        if caption or allow_empty:
            return "", []
        raise bad_request("message text is empty")
    if len(raw.encode()) > RAW_TEXT_BYTES_LIMIT:
        raise bad_request("text is too long")
    try:
        text, entities = formatting.format_text(raw, params.get(mode_key), params.get(entities_key))
    except formatting.FormattingError as error:
        raise ApiError(400, error.description) from None
    if not text.strip() and not (caption or allow_empty):
        raise bad_request("text must be non-empty")
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    if formatting.text_length(text) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return text, entities


def text_content(text: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    """A text message as Telegram stores it: links, mentions and commands detected too."""
    entities = formatting.with_auto_entities(text, entities)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    return content


def reply_markup(call: Call) -> dict[str, Any] | None:
    """The reply_markup parameter; only inline keyboards are stored on the message."""
    raw = call.params.get("reply_markup")
    if raw is None or raw == "":
        return None
    try:
        markup = json.loads(raw)
    except ValueError:
        raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'can\'t parse inline keyboard button: field "inline_keyboard" must be an Array'
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(f"can't parse inline keyboard button: {TEXT_BUTTONS}")
            data = button.get("callback_data")
            if data is not None and not (1 <= len(str(data).encode()) <= CALLBACK_DATA_BYTES):
                raise bad_request("BUTTON_DATA_INVALID")
    return {"inline_keyboard": rows} if rows else None


def thread_id(call: Call, chat: Chat) -> int | None:
    """message_thread_id checked as Telegram does: ignored outside forums, must exist inside."""
    if not call.params.has("message_thread_id"):
        return None
    value = call.params.integer("message_thread_id")
    if not chat.is_forum:
        return None
    topic = chat.topics.get(value)
    if topic is None:
        raise bad_request("message thread not found")
    if topic.closed:
        member = chat.member(call.bot.id)
        if member is None or not member.is_admin:
            raise bad_request("TOPIC_CLOSED")
    return value


def reply_target(call: Call, chat: Chat) -> int | None:
    """reply_parameters (or the older reply_to_message_id), or Telegram's complaint."""
    params = call.params
    target: int | None = None
    allow_missing = params.flag("allow_sending_without_reply")
    if params.has("reply_parameters"):
        value = params.json("reply_parameters", "can't parse reply parameters JSON object")
        if not isinstance(value, dict):
            raise bad_request("can't parse reply parameters JSON object")
        target = json_int(value.get("message_id")) or 0
        allow_missing = bool(value.get("allow_sending_without_reply", allow_missing))
        other_chat = value.get("chat_id")
        if other_chat is not None and str(other_chat) != str(chat.id):
            return None  # replies to other chats become external replies; not modelled
    elif params.has("reply_to_message_id"):
        target = params.integer("reply_to_message_id")
    if not target:
        return None
    if target not in chat.messages:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return target


def send(call: Call, chat: Chat, content: dict[str, Any]) -> dict[str, Any]:
    """Post a message from the bot after every check passed; flood control applies here."""
    world, bot = call.world, call.bot
    topic = thread_id(call, chat)
    reply_to = reply_target(call, chat)
    markup = reply_markup(call)
    world.ensure_can_send(bot, chat)
    world.flood.spend(bot.id, chat.id, is_group=chat.type != "private")
    message = world.post(
        chat, bot.user, content, thread_id=topic, reply_to=reply_to, reply_markup=markup
    )
    return message_json(world.users, message)


def editable_message(call: Call) -> tuple[Chat, Message]:
    """The message a bot wants to edit, or Telegram's complaint."""
    if call.params.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    message_id = call.params.integer("message_id")
    if message_id == 0:
        raise bad_request("message identifier is not specified")
    message = chat.messages.get(message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if message.sender_id != call.bot.id:
        raise bad_request("message can't be edited")
    return chat, message
