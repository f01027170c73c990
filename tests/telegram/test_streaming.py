"""A reply as the person sees it being written, through aiogram's real client and the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

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


class Moment:
    """The reply's sleep, held until the test says the moment has come (no real waiting)."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._come = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self._come.wait()

    def come(self) -> None:
        self._come.set()


async def until(sandbox: Sandbox, condition: Callable[[], bool]) -> None:
    """Wait for the sandbox to reach a state, waking on every change (a hang fails the test)."""
    world = sandbox.world
    async with asyncio.timeout(10):
        while not condition():
            await world.wait_for_change(world.version, 1.0)


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
    pacing, moment = Pacing(thinking_after=0.3, draft_interval=60), Moment()
    reply = TelegramReply(
        bot, chat_id=ann.id, private=True, pacing=pacing, texts=ENGLISH, sleep=moment
    )

    await reply.thinking()
    await reply.progress("Here")
    moment.come()  # the moment the answer counts as slow
    await until(sandbox, lambda: bool(drafts(sandbox)))

    assert moment.asked == [0.3]
    assert drafts(sandbox) == ["Here"]  # the words so far, not an empty "Thinking…"
    await reply.finish("Here it is.")
    assert [e.method for e in sandbox.transcript()] == ["sendMessageDraft", "sendMessage"]


async def test_a_refused_preview_does_not_stop_the_answer(
    sandbox: Sandbox, bot: Bot, ann: User
) -> None:
    sandbox.inject("sendMessageDraft", status=403, description="Forbidden: bot was blocked")
    moment = Moment()
    reply = TelegramReply(
        bot, chat_id=ann.id, private=True, pacing=Pacing(), texts=ENGLISH, sleep=moment
    )

    await reply.thinking()
    moment.come()
    await until(sandbox, lambda: bool(sandbox.transcript(method="sendMessageDraft")))
    # the failed "Thinking…" draft is swallowed, not raised (the test would see it as unraisable)
    await reply.progress("Here")
    sent = await reply.finish("Here it is.")

    assert [text for _, text in sent] == ["Here it is."]
    assert len(sandbox.transcript(method="sendMessageDraft")) == 1  # previews stopped after it


async def test_a_slow_start_shows_thinking_first(sandbox: Sandbox, bot: Bot, ann: User) -> None:
    moment = Moment()
    reply = TelegramReply(
        bot, chat_id=ann.id, private=True, pacing=Pacing(), texts=ENGLISH, sleep=moment
    )

    await reply.thinking()
    moment.come()
    await until(sandbox, lambda: bool(drafts(sandbox)))

    assert drafts(sandbox) == [""]  # Telegram shows "Thinking…" for an empty draft


async def test_a_busy_process_skips_previews_but_not_the_answer(
    sandbox: Sandbox, bot: Bot, ann: User
) -> None:
    """When the event loop runs late, previews (optional) give way to answers."""
    moment = Moment()
    reply = TelegramReply(
        bot,
        chat_id=ann.id,
        private=True,
        pacing=Pacing(thinking_after=0, draft_interval=0),
        texts=ENGLISH,
        sleep=moment,
        busy=lambda: True,
    )
    await reply.thinking()
    moment.come()
    await reply.progress("Here")
    await reply.progress("Here it is")
    sent = await reply.finish("Here it is.")
    assert [text for _, text in sent] == ["Here it is."]
    assert [e.method for e in sandbox.transcript()] == ["sendMessage"]
