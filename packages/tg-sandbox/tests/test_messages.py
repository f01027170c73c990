"""Sending, editing, deleting, forwarding and copying, with Telegram's exact complaints."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from tg_sandbox import Sandbox, User


@pytest.fixture
def ann(sandbox: Sandbox) -> User:
    user = sandbox.add_user("Ann", username="ann")
    sandbox.people.send_text(user, sandbox.bot(), "/start")
    return user


async def test_send_message_parses_html_into_entities(bot: Bot, ann: User) -> None:
    sent = await bot.send_message(ann.id, "<b>bold</b> and <i>it</i> 👋", parse_mode="HTML")
    assert sent.text == "bold and it 👋"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 0, 4),
        ("italic", 9, 2),
    ]
    assert sent.chat.id == ann.id and sent.from_user and sent.from_user.is_bot


@pytest.mark.parametrize(
    ("text", "mode", "error"),
    [
        ("", None, "Bad Request: message text is empty"),
        ("   ", None, "Bad Request: text must be non-empty"),
        ("x" * 4097, None, "Bad Request: message is too long"),
        ("<b>open", "HTML", "Bad Request: can't parse entities: "),
        ("a.b", "MarkdownV2", "Bad Request: can't parse entities: Character '.' is reserved"),
        ("hi", "Klingon", "Bad Request: unsupported parse_mode"),
    ],
)
async def test_bad_text_gets_telegrams_exact_error(
    bot: Bot, ann: User, text: str, mode: str | None, error: str
) -> None:
    with pytest.raises(TelegramBadRequest) as raised:
        await bot.send_message(ann.id, text, parse_mode=mode)
    assert raised.value.message.startswith(error)


async def test_4096_characters_are_fine_and_emoji_count_once(bot: Bot, ann: User) -> None:
    sent = await bot.send_message(ann.id, "😀" * 4096)
    assert sent.text == "😀" * 4096


async def test_bot_cannot_start_a_conversation(sandbox: Sandbox, bot: Bot) -> None:
    stranger = sandbox.add_user("Stranger")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(stranger.id, "hello")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(-424242, "hello")


async def test_blocked_bot_gets_forbidden(sandbox: Sandbox, bot: Bot, ann: User) -> None:
    sandbox.people.block(ann, sandbox.bot())
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ann.id, "still there?")


async def test_edit_rules(sandbox: Sandbox, bot: Bot, ann: User) -> None:
    sent = await bot.send_message(ann.id, "draft")
    edited = await bot.edit_message_text("final", chat_id=ann.id, message_id=sent.message_id)
    assert isinstance(edited, type(sent)) and edited.text == "final" and edited.edit_date
    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new"):
        await bot.edit_message_text("final", chat_id=ann.id, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ann.id, message_id=99999)
    theirs = sandbox.messages(sandbox.private_chat(sandbox.bot(), ann))[0]
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=ann.id, message_id=theirs.message_id)


async def test_reply_markup_edits_and_button_data_limits(bot: Bot, ann: User) -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="yes")]]
    )
    sent = await bot.send_message(ann.id, "Sure?", reply_markup=keyboard)
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "yes"
    cleared = await bot.edit_message_reply_markup(chat_id=ann.id, message_id=sent.message_id)
    assert not isinstance(cleared, bool) and cleared.reply_markup is None
    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ann.id, "x", reply_markup=too_long)


async def test_replies_and_missing_reply_targets(bot: Bot, ann: User) -> None:
    first = await bot.send_message(ann.id, "first")
    reply = await bot.send_message(
        ann.id, "second", reply_parameters=ReplyParameters(message_id=first.message_id)
    )
    assert reply.reply_to_message and reply.reply_to_message.text == "first"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(ann.id, "x", reply_parameters=ReplyParameters(message_id=9999))
    lenient = ReplyParameters(message_id=9999, allow_sending_without_reply=True)
    sent = await bot.send_message(ann.id, "x", reply_parameters=lenient)
    assert sent.reply_to_message is None


async def test_delete_forward_and_copy(sandbox: Sandbox, bot: Bot, ann: User) -> None:
    sent = await bot.send_message(ann.id, "keep me")
    forwarded = await bot.forward_message(ann.id, ann.id, sent.message_id)
    assert forwarded.forward_origin is not None and forwarded.text == "keep me"
    copied = await bot.copy_message(ann.id, ann.id, sent.message_id)
    assert copied.message_id > forwarded.message_id
    assert await bot.delete_message(ann.id, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ann.id, sent.message_id)
    assert await bot.delete_messages(ann.id, [forwarded.message_id, copied.message_id]) is True
    texts = [m.text for m in sandbox.messages(sandbox.private_chat(sandbox.bot(), ann))]
    assert texts == ["/start"]


async def test_chat_action_and_reaction(bot: Bot, ann: User) -> None:
    assert await bot.send_chat_action(ann.id, "typing") is True
    with pytest.raises(TelegramBadRequest, match="wrong parameter action in request"):
        await bot.send_chat_action(ann.id, "dancing")
    sent = await bot.send_message(ann.id, "react to me")
    assert await bot.set_message_reaction(ann.id, sent.message_id, []) is True
