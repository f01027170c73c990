"""Chat admins, asked from the sandbox: remembered briefly, forgotten boundedly, asked afresh."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from tg_sandbox import FloodPolicy, Sandbox

from magpie.telegram.admins import ChatAdmins

TOKEN = "7000000001:SANDBOX-admins"


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


async def test_a_demoted_admin_loses_their_rights_within_seconds(
    sandbox: Sandbox, bot: Bot
) -> None:
    ann, bob = sandbox.add_user("Ann"), sandbox.add_user("Bob")
    group = sandbox.add_group("G", members=[ann, bob])
    sandbox.add_bot_to_chat(sandbox.bot(), group, admin=True)
    sandbox.add_member(group, bob, admin=True)
    now = [0.0]
    admins = ChatAdmins(bot, ttl=10, clock=lambda: now[0])
    assert await admins.is_admin(group.id, bob.id)
    sandbox.add_member(group, bob, admin=False)  # demoted
    assert await admins.is_admin(group.id, bob.id)  # remembered for a moment...
    assert not await admins.is_admin(group.id, bob.id, fresh=True)  # ...unless asked afresh
    sandbox.add_member(group, bob, admin=True)
    now[0] = 5.0
    assert not await admins.is_admin(group.id, bob.id)  # the fresh answer is remembered
    now[0] = 16.0
    assert await admins.is_admin(group.id, bob.id)  # and expires


async def test_it_remembers_a_bounded_number_of_chats(sandbox: Sandbox, bot: Bot) -> None:
    ann = sandbox.add_user("Ann")
    groups = [sandbox.add_group(f"G{i}", members=[ann]) for i in range(5)]
    for group in groups:
        sandbox.add_bot_to_chat(sandbox.bot(), group, admin=True)
    admins = ChatAdmins(bot, size=3)
    for group in groups:
        assert await admins.is_admin(group.id, ann.id)
    calls = len(sandbox.transcript(method="getChatAdministrators"))
    assert await admins.is_admin(groups[-1].id, ann.id)  # recent: remembered
    assert await admins.is_admin(groups[0].id, ann.id)  # pushed out: asked again
    assert len(sandbox.transcript(method="getChatAdministrators")) == calls + 1
