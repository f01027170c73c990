"""getUpdates: offsets, limits, long polling, conflicts, sticky allowed_updates, retention."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError

from tests.conftest import TOKEN, client_for, until
from tg_sandbox import FloodPolicy, ManualClock, Sandbox


def user_writes(sandbox: Sandbox, *texts: str) -> None:
    user = sandbox.add_user("Ann")
    for text in texts:
        sandbox.people.send_text(user, sandbox.bot(), text)


async def test_updates_are_confirmed_by_offset(sandbox: Sandbox, bot: Bot) -> None:
    user_writes(sandbox, "one", "two", "three")
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
    ids = [u.update_id for u in updates]
    assert ids == list(range(ids[0], ids[0] + 3))
    again = await bot.get_updates(offset=ids[1])
    assert [u.update_id for u in again] == ids[1:]
    assert await bot.get_updates(offset=ids[-1] + 1) == []


async def test_limit_is_clamped_and_negative_offset_keeps_the_last(
    sandbox: Sandbox, bot: Bot
) -> None:
    user_writes(sandbox, *[f"m{i}" for i in range(5)])
    assert len(await bot.get_updates(limit=0)) == 1  # clamped up to 1
    assert len(await bot.get_updates(limit=1000)) == 5  # clamped down to 100
    last_two = await bot.get_updates(offset=-2)
    assert [u.message.text for u in last_two if u.message] == ["m3", "m4"]
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["m3", "m4"]


async def test_long_poll_returns_when_an_update_arrives(sandbox: Sandbox, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await until(lambda: sandbox.bot().held_poll is not None)
    user_writes(sandbox, "wake up")
    updates = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_a_second_poller_terminates_the_first(sandbox: Sandbox, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await until(lambda: sandbox.bot().held_poll is not None)
    second = asyncio.create_task(bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 5)
    assert await asyncio.wait_for(second, 5) == []


async def test_allowed_updates_is_sticky(sandbox: Sandbox, bot: Bot) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    user_writes(sandbox, "ignored")
    assert await bot.get_updates() == []  # not passed again: the old setting holds
    await bot.get_updates(allowed_updates=[])
    user_writes(sandbox, "seen")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["seen"]


async def test_updates_are_kept_for_24_hours(
    sandbox: Sandbox, bot: Bot, clock: ManualClock
) -> None:
    user_writes(sandbox, "old")
    clock.advance(24 * 3600 + 1)
    user_writes(sandbox, "new")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["new"]


async def test_get_updates_conflicts_with_a_webhook(sandbox: Sandbox, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == []


async def test_repeating_one_offset_is_slowed_down_like_telegram(clock: ManualClock) -> None:
    async with Sandbox(clock=clock, flood=FloodPolicy(enabled=False)) as strict:
        strict.add_bot(token=TOKEN, username="magpie_bot")
        user_writes(strict, "a", "b", "c")
        bot = client_for(strict)
        try:
            assert len(await bot.get_updates()) == 3
            assert len(await bot.get_updates()) == 1  # same offset within 0.5 s: limit 1
            clock.advance(1)
            assert len(await bot.get_updates()) == 3
        finally:
            await bot.session.close()


async def test_set_webhook_terminates_a_held_poll(sandbox: Sandbox, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await until(lambda: sandbox.bot().held_poll is not None)
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(TelegramConflictError, match="terminated by setWebhook request"):
        await asyncio.wait_for(poll, 5)
