"""Fixtures: a running sandbox with one bot, and aiogram's real HTTP client pointed at it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from tests.bot_api.schema import check_method_result
from tg_sandbox import BotAccount, FloodPolicy, ManualClock, Sandbox

TOKEN = "7000000001:SANDBOX-test-token"


def required(flag: str) -> bool:
    """CI sets TG_SANDBOX_REQUIRE_* so a missing tool fails the run instead of skipping."""
    return os.environ.get(flag, "") not in ("", "0", "false")


def missing(what: str, flag: str) -> None:
    """Skip with a clear reason on a laptop; fail in CI."""
    message = f"{what} is not available"
    if required(flag):
        pytest.fail(f"{message}, and {flag} says it is required here")
    pytest.skip(f"{message} (set {flag}=1 to make this a failure)")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def sandbox(clock: ManualClock) -> AsyncIterator[Sandbox]:
    """A sandbox without flood control; every successful result is checked against the schema."""
    async with Sandbox(clock=clock, flood=FloodPolicy(enabled=False), anti_spin=False) as running:
        running.add_bot(token=TOKEN, username="magpie_bot")
        yield running
        for entry in running.transcript():
            if entry.ok:
                check_method_result(entry.method, entry.result)


@pytest.fixture
def account(sandbox: Sandbox) -> BotAccount:
    return sandbox.bot("magpie_bot")


def client_for(sandbox: Sandbox, token: str = TOKEN) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url))
    return Bot(token, session=session)


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    """aiogram's real Bot with its real aiohttp session, talking HTTP to the sandbox."""
    client = client_for(sandbox)
    yield client
    await client.session.close()


async def until(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    """Wait for the sandbox's in-memory state to reach a condition (a wait, not a timing sleep)."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 (state changes in another task; no event to await)
            await asyncio.sleep(0.002)
