"""A reply as the person sees it being written, through aiogram's real client and the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from tg_sandbox import FloodPolicy, Sandbox, User

from magpie.telegram.streaming import Pacing, TelegramReply
from magpie.texts import ENGLISH

TOKEN = "7000000001:SANDBOX-streaming"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(flood=FloodPolicy(enabled=False), anti_spin=False) as running:
        running.add_bot(token=TOKEN, username="magpie_bot")
        yield running


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    client = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url)))
    yield client
    await client.session.close()


@pytest.fixture
def ann(sandbox: Sandbox) -> User:
    person = sandbox.add_user("Ann")
    sandbox.people.send_text(person, sandbox.bot("magpie_bot"), "/start")
    return person


def drafts(sandbox: Sandbox) -> list[str]:
    return [str(e.params.get("text", "")) for e in sandbox.transcript(method="sendMessageDraft")]


async def test_a_fast_answer_arrives_whole_without_drafts(
    sandbox: Sandbox, bot: Bot, ann: User
) -> None:
    reply = TelegramReply(
        bot, chat_id=ann.id, private=True, pacing=Pacing(thinking_after=60), texts=ENGLISH
    )

    await reply.thinking()
    await reply.progress("Here")
    await reply.progress("Here it is")
    sent = await reply.finish("Here it is.")

    assert [text for _, text in sent] == ["Here it is."]
    assert drafts(sandbox) == []  # nothing flashed before the answer
    assert [e.method for e in sandbox.transcript()] == ["sendMessage"]


async def test_words_written_early_are_the_first_draft_once_the_answer_takes_time(
    sandbox: Sandbox, bot: Bot, ann: User
) -> None:
    pacing = Pacing(thinking_after=0.01, draft_interval=60)
    reply = TelegramReply(bot, chat_id=ann.id, private=True, pacing=pacing, texts=ENGLISH)

    await reply.thinking()
    await reply.progress("Here")
    assert reply._typing is not None
    await reply._typing  # the moment the answer counts as slow

    assert drafts(sandbox) == ["Here"]  # the words so far, not an empty "Thinking…"
    await reply.finish("Here it is.")
    assert [e.method for e in sandbox.transcript()] == ["sendMessageDraft", "sendMessage"]


async def test_a_refused_preview_does_not_stop_the_answer(
    sandbox: Sandbox, bot: Bot, ann: User
) -> None:
    sandbox.inject("sendMessageDraft", status=403, description="Forbidden: bot was blocked")
    reply = TelegramReply(
        bot, chat_id=ann.id, private=True, pacing=Pacing(thinking_after=0), texts=ENGLISH
    )

    await reply.thinking()
    assert reply._typing is not None
    await reply._typing  # the failed "Thinking…" draft is swallowed, not raised
    await reply.progress("Here")
    sent = await reply.finish("Here it is.")

    assert [text for _, text in sent] == ["Here it is."]
    assert len(sandbox.transcript(method="sendMessageDraft")) == 1  # previews stopped after it


async def test_a_slow_start_shows_thinking_first(sandbox: Sandbox, bot: Bot, ann: User) -> None:
    reply = TelegramReply(
        bot, chat_id=ann.id, private=True, pacing=Pacing(thinking_after=0.01), texts=ENGLISH
    )

    await reply.thinking()
    assert reply._typing is not None
    await reply._typing

    assert drafts(sandbox) == [""]  # Telegram shows "Thinking…" for an empty draft
