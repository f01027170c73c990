"""bench.broadcast, small: 300 chats through the outgoing limiter against the sandbox's
Telegram-like flood control, on one manual clock (no real waiting; rates in the sandbox's time)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from bench.broadcast import TELEGRAM_RATE, TOKENS, Seen, limited_bot, sends
from tg_sandbox import FloodPolicy, ManualClock, Sandbox

from tests.fakes.virtual_time import VirtualTime

CHATS = 300


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(clock=ManualClock(), flood=FloodPolicy(), anti_spin=False) as running:
        for username, token in TOKENS.items():
            running.add_bot(token=token, username=username)
        yield running


def chats(sandbox: Sandbox) -> list[int]:
    ids = []
    for i in range(CHATS):
        person = sandbox.add_user(f"P{i}")
        for username in TOKENS:
            sandbox.people.send_text(person, sandbox.bot(username), "/start")
        ids.append(person.id)
    return ids


def seen(sandbox: Sandbox, username: str) -> Seen:
    bot = sandbox.bot(username)
    return Seen.of([e.as_json() for e in sandbox.transcript(method="sendMessage", bot=bot)])


async def broadcast(sandbox: Sandbox, username: str, ids: list[int]) -> Counter[str]:
    clock = sandbox.world.clock
    assert isinstance(clock, ManualClock)
    time = VirtualTime(clock.now, clock.advance)
    bot = limited_bot(sandbox.url, TOKENS[username], sleep=time.sleep, clock=clock.now)
    try:
        async with asyncio.timeout(60):
            return Counter(await time.run(sends(bot, ids)))
    finally:
        await bot.session.close()


async def test_a_broadcast_keeps_to_telegrams_rate_with_no_429_where_a_naive_one_floods(
    sandbox: Sandbox,
) -> None:
    ids = chats(sandbox)
    naive = Bot(
        TOKENS["magpie_bot"], session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url))
    )
    try:
        naive_outcomes = Counter(await asyncio.gather(*sends(naive, ids)))
    finally:
        await naive.session.close()
    assert naive_outcomes["429"] > CHATS / 2  # the baseline: flood control refuses most

    outcomes = await broadcast(sandbox, "magpie_bot2", ids)
    limited = seen(sandbox, "magpie_bot2")
    assert outcomes == Counter(ok=CHATS)
    assert (limited.delivered, limited.chats, limited.refused_429) == (CHATS, CHATS, 0)
    assert 0.95 * TELEGRAM_RATE <= limited.sustained <= TELEGRAM_RATE + 1e-3


async def test_a_429_storm_is_waited_out_and_every_chat_gets_its_message_once(
    sandbox: Sandbox,
) -> None:
    ids = chats(sandbox)
    sandbox.inject("sendMessage", status=429, retry_after=3, times=40, token=TOKENS["magpie_bot3"])
    outcomes = await broadcast(sandbox, "magpie_bot3", ids)
    stormy = seen(sandbox, "magpie_bot3")
    assert outcomes == Counter(ok=CHATS)
    assert (stormy.delivered, stormy.chats) == (CHATS, CHATS)  # none lost, none twice
    assert stormy.refused_429 == 40  # the injected ones; flood control itself said no never
