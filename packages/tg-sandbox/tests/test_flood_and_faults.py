"""Flood control with Telegram's numbers, and scripted faults for resilience tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from tests.conftest import TOKEN, client_for
from tg_sandbox import FloodPolicy, ManualClock, Sandbox


@pytest.fixture
async def strict(clock: ManualClock) -> AsyncIterator[Sandbox]:
    async with Sandbox(clock=clock, flood=FloodPolicy.named("telegram")) as running:
        running.add_bot(token=TOKEN, username="magpie_bot")
        yield running


async def test_per_chat_burst_then_retry_after(strict: Sandbox, clock: ManualClock) -> None:
    ann = strict.add_user("Ann")
    strict.people.send_text(ann, strict.bot(), "hi")
    bot = client_for(strict)
    try:
        for i in range(3):
            await bot.send_message(ann.id, f"burst {i}")
        with pytest.raises(TelegramRetryAfter) as raised:
            await bot.send_message(ann.id, "one too many")
        assert raised.value.retry_after == 1
        clock.advance(1)
        await bot.send_message(ann.id, "after waiting")
    finally:
        await bot.session.close()


async def test_group_limit_is_twenty_per_minute(strict: Sandbox, clock: ManualClock) -> None:
    ann = strict.add_user("Ann")
    group = strict.add_group("G", members=[ann])
    strict.add_bot_to_chat(strict.bot(), group)
    bot = client_for(strict)
    try:
        sent = 0
        for _ in range(40):
            try:
                await bot.send_message(group.id, "x")
                sent += 1
            except TelegramRetryAfter:
                pass
            clock.advance(1.0)  # stay within 1/s per chat; the per-minute cap bites
        assert 20 <= sent <= 34
        assert sent < 40
    finally:
        await bot.session.close()


async def test_edits_count_towards_the_limit(strict: Sandbox) -> None:
    ann = strict.add_user("Ann")
    strict.people.send_text(ann, strict.bot(), "hi")
    bot = client_for(strict)
    try:
        message = await bot.send_message(ann.id, "v0")
        for i in range(1, 3):
            await bot.edit_message_text(f"v{i}", chat_id=ann.id, message_id=message.message_id)
        with pytest.raises(TelegramRetryAfter):
            await bot.edit_message_text("v3", chat_id=ann.id, message_id=message.message_id)
    finally:
        await bot.session.close()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"status": 429, "retry_after": 3}, TelegramRetryAfter),
        ({"status": 400, "description": "Bad Request: chat not found"}, TelegramBadRequest),
        ({"status": 403}, TelegramForbiddenError),
        ({"status": 502}, TelegramServerError),
        ({"kind": "reset"}, TelegramNetworkError),
    ],
)
async def test_scripted_faults_fire_the_given_number_of_times(
    sandbox: Sandbox, bot: Bot, fault: dict[str, object], error: type[Exception]
) -> None:
    sandbox.inject("getMe", times=2, **fault)  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(error):
            await bot.get_me()
    assert (await bot.get_me()).username == "magpie_bot"


async def test_hang_holds_the_call_until_the_client_gives_up(sandbox: Sandbox, bot: Bot) -> None:
    sandbox.inject("sendChatAction", kind="hang", hang_seconds=30)
    ann = sandbox.add_user("Ann")
    sandbox.people.send_text(ann, sandbox.bot(), "hi")
    with pytest.raises((TelegramNetworkError, asyncio.TimeoutError)):
        await bot.send_chat_action(ann.id, "typing", request_timeout=1)
