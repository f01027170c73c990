"""python-telegram-bot drives the sandbox too: it is client-agnostic, not aiogram-shaped."""

from __future__ import annotations

import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from tests.conftest import TOKEN
from tg_sandbox import Sandbox


async def test_ptb_conversation_with_buttons_and_files(sandbox: Sandbox) -> None:
    ann = sandbox.add_user("Ann", username="ann")
    async with telegram.Bot(
        TOKEN, base_url=f"{sandbox.url}/bot", base_file_url=f"{sandbox.url}/file/bot"
    ) as bot:
        me = await bot.get_me()
        assert me.username == "magpie_bot"
        sandbox.people.send_text(ann, sandbox.bot(), "/start")
        updates = await bot.get_updates()
        assert updates[0].message is not None and updates[0].message.text == "/start"
        entity = updates[0].message.entities[0]
        assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
        sent = await bot.send_message(
            ann.id, "<b>Ready?</b>", parse_mode="HTML", reply_markup=keyboard
        )
        assert sent.text == "Ready?"
        chat = sandbox.private_chat(sandbox.bot(), ann)
        query_id = sandbox.people.press_button(ann, chat.messages[sent.message_id], "go")
        updates = await bot.get_updates(offset=updates[-1].update_id + 1)
        query = updates[-1].callback_query
        assert query is not None and query.id == query_id and query.data == "go"
        assert await bot.answer_callback_query(query.id, text="Going!") is True
        assert sandbox.world.callback_answers[query_id]["text"] == "Going!"
        edited = await bot.edit_message_text("Gone.", chat_id=ann.id, message_id=sent.message_id)
        assert isinstance(edited, telegram.Message) and edited.text == "Gone."
        document = await bot.send_document(ann.id, b"hello file", filename="hello.txt")
        assert document.document is not None
        file = await bot.get_file(document.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"hello file"
