"""A person and Magpie in a private chat: streaming, formatting, history, commands."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from structlog.testing import capture_logs
from tg_sandbox import User

from magpie.storage.database import Database
from magpie.storage.tables import MessageRow
from magpie.texts import ENGLISH
from tests.e2e.conftest import Harness
from tests.fakes.llm_vendors import FakeLLMVendors, Reply


async def test_reply_streams_as_drafts_then_lands_as_one_formatted_message(
    magpie: Harness,
) -> None:
    ann = magpie.sandbox.add_user("Ann")
    asked = magpie.sandbox.people.send_text(ann, magpie.account, "Hello, who are you?")
    reply = await magpie.reply_to(asked)
    assert "offline" in (reply.text or "")
    assert "You wrote: Hello, who are you?" in (reply.text or "")
    kinds = {e["type"] for e in reply.content.get("entities", [])}
    assert {"bold", "italic", "pre"} <= kinds  # the model's Markdown became entities
    drafts = [
        d.params.get("text", "") for d in magpie.sandbox.transcript(method="sendMessageDraft")
    ]
    growing = [text for text in drafts if text]
    assert len(growing) >= 2 and growing == sorted(growing, key=len)  # the text grew in place
    final_call = magpie.sandbox.transcript(method="sendMessage")[-1]
    assert all(d.seq < final_call.seq for d in magpie.sandbox.transcript(method="sendMessageDraft"))
    assert len(magpie.bot_messages(magpie.private(ann))) == 1


async def test_history_carries_over_and_new_starts_fresh(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    first = magpie.sandbox.people.send_text(ann, magpie.account, "one")
    await magpie.reply_to(first)
    second = magpie.sandbox.people.send_text(ann, magpie.account, "two")
    assert "I can see 1 earlier answer " in ((await magpie.reply_to(second)).text or "")
    fresh = magpie.sandbox.people.send_text(ann, magpie.account, "/new")
    assert "Starting fresh" in ((await magpie.reply_to(fresh)).text or "")
    third = magpie.sandbox.people.send_text(ann, magpie.account, "three")
    assert "I can see 0 earlier answers" in ((await magpie.reply_to(third)).text or "")


async def test_start_help_and_registered_commands(magpie: Harness) -> None:
    ann: User = magpie.sandbox.add_user("Ann")
    start = magpie.sandbox.people.send_text(ann, magpie.account, "/start")
    assert "@magpie_bot" in ((await magpie.reply_to(start)).text or "")
    helped = magpie.sandbox.people.send_text(ann, magpie.account, "/help")
    assert "/retry" in ((await magpie.reply_to(helped)).text or "")
    registered = magpie.sandbox.transcript(method="setMyCommands")[-1].params["commands"]
    assert all(f'"{name}"' in registered for name in ("new", "stop", "retry", "help"))


async def test_media_it_cannot_read_gets_a_clear_answer(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    sticker = magpie.sandbox.people.send_media(ann, magpie.account, "sticker", b"webp")
    reply = await magpie.reply_to(sticker)
    assert reply.text == "I can't read sticker messages yet — please send text."
    assert not magpie.sandbox.transcript(method="sendMessageDraft")  # no model call


async def test_invisible_characters_never_reach_the_model(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    sneaky = "hi\u200b\U000e0041\u202ethere"
    reply = await magpie.reply_to(magpie.sandbox.people.send_text(ann, magpie.account, sneaky))
    assert "You wrote: hithere" in (reply.text or "")


async def test_a_slow_model_shows_thinking_then_the_words(
    vendor_magpie: Harness, fake_vendors: FakeLLMVendors
) -> None:
    h = vendor_magpie
    ann = h.sandbox.add_user("Ann")
    fake_vendors.enqueue(Reply("Here it is.", chunks=2, first_token_delay=0.5))
    reply = await h.reply_to(h.sandbox.people.send_text(ann, h.account, "take your time"))
    assert reply.text == "Here it is."
    drafts = [d.params.get("text", "") for d in h.sandbox.transcript(method="sendMessageDraft")]
    assert drafts[0] == ""  # Telegram shows "Thinking…" for an empty draft
    assert "Here" in drafts[-1]


async def test_a_very_long_message_is_answered_and_kept(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    essay = ("All work and no play makes Jack a dull boy. " * 250)[:10_000]
    reply = await magpie.reply_to(magpie.sandbox.people.send_text(ann, magpie.account, essay))
    assert "You wrote: All work and no play" in (reply.text or "")
    db = await magpie.runtime.container.get(Database)
    async with db.read() as connection:
        stored = await connection.scalar(
            select(MessageRow.text).where(MessageRow.outgoing.is_(False))
        )
    assert stored is not None and stored.startswith("All work") and len(stored) >= 8000
    assert stored.endswith("…[cut]")  # what the model sees is bounded


async def test_entities_telegram_refuses_fall_back_to_plain_text(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    magpie.sandbox.inject(
        "sendMessage",
        status=400,
        description="Bad Request: can't parse entities: Unsupported start tag at byte offset 3",
    )
    reply = await magpie.reply_to(magpie.sandbox.people.send_text(ann, magpie.account, "hi"))
    assert "offline" in (reply.text or "")
    assert "entities" not in reply.content  # delivered as plain text the second time
    calls = magpie.sandbox.transcript(method="sendMessage")
    assert [c.ok for c in calls] == [False, True]
    assert "entities" in calls[0].params and "entities" not in calls[1].params


async def test_a_crash_gets_an_apology_and_an_operator_log_line(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    db = await magpie.runtime.container.get(Database)
    async with db.write() as connection:
        await connection.execute(text("ALTER TABLE turns RENAME TO turns_gone"))  # turns fail
    with capture_logs() as logs:
        asked = magpie.sandbox.people.send_text(ann, magpie.account, "hello?")
        await magpie.settled()
    texts = [m.text for m in magpie.bot_messages(magpie.private(ann), after=asked.message_id)]
    assert ENGLISH.crashed in texts
    assert all("Traceback" not in (t or "") for t in texts)
    crashed = [entry for entry in logs if entry["event"] == "update.crashed"]
    assert crashed and crashed[0]["log_level"] == "error" and crashed[0].get("exc_info")


@pytest.mark.parametrize("blank", ["   ", "\u200b\u2060", "\U000e0041\U000e0042"])
async def test_an_empty_looking_message_gets_a_clear_answer_and_is_kept(
    magpie: Harness, blank: str
) -> None:
    ann = magpie.sandbox.add_user("Ann")
    reply = await magpie.reply_to(magpie.sandbox.people.send_text(ann, magpie.account, blank))
    assert reply.text == ENGLISH.empty
    db = await magpie.runtime.container.get(Database)
    async with db.read() as connection:
        kept = await connection.scalar(
            select(MessageRow.kind).where(MessageRow.outgoing.is_(False))
        )
    assert kept == "text"
