"""A whole Magpie against the sandbox: real HTTP, real aiogram, real database, a chosen model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dishka import Provider, Scope, provide
from tg_sandbox import BotAccount, Chat, FloodPolicy, Message, Sandbox, User

from magpie.app import Runtime, running, serve
from magpie.config import Settings, load_settings
from magpie.limits.outgoing import OutgoingLimiter
from magpie.observability.lag import LoopLag
from magpie.observability.metrics import Metrics
from magpie.telegram.delivery import Delivery
from magpie.telegram.streaming import Pacing
from tests.fakes.llm_vendors import FakeLLMVendors

TOKEN = "7000000001:SANDBOX-e2e"


async def no_wait(seconds: float) -> None:
    """The sending path's backoff and 429 waits, skipped: tests wait for states, not time."""


class FastPacing(Provider):
    """Previews as often as each chunk arrives and retries at once, so tests see every step
    without waiting."""

    scope = Scope.APP

    @provide(override=True)
    def pacing(self) -> Pacing:
        return Pacing(
            draft_interval=0.0, edit_interval=0.0, typing_interval=60.0, thinking_after=0.0
        )

    @provide(override=True)
    def delivery(self, metrics: Metrics, outgoing: OutgoingLimiter) -> Delivery:
        return Delivery(metrics, limiter=outgoing, sleep=no_wait)

    @provide(override=True)
    def lag(self, metrics: Metrics) -> LoopLag:
        """Never too busy for previews: a loaded test machine must not change what is shown."""
        return LoopLag(metrics, threshold=float("inf"))


@dataclass
class Harness:
    """The sandbox with Magpie attached, and ways to wait for what a user would see."""

    sandbox: Sandbox
    account: BotAccount
    runtime: Runtime
    settings: Settings

    async def until(self, condition: Callable[[], Any], *, within: float = 10.0) -> Any:
        """Wait for the world to reach a state, waking on every change (no polling sleeps)."""
        world = self.sandbox.world
        async with asyncio.timeout(within):
            while not (result := condition()):
                await world.wait_for_change(world.version, 1.0)
        return result

    def bot_messages(self, chat: Chat, *, after: int = 0) -> list[Message]:
        return [
            m
            for m in chat.messages.values()
            if m.sender_id == self.account.id and m.message_id > after
        ]

    async def reply_to(self, message: Message, *, within: float = 10.0) -> Message:
        """The bot's first message after `message` in its chat (and topic), once finished."""
        chat = message.chat
        await self.settled(within=within)

        def found() -> Message | None:
            for candidate in self.bot_messages(chat, after=message.message_id):
                if candidate.thread_id == message.thread_id and "text" in candidate.content:
                    return candidate
            return None

        return await self.until(found, within=within)  # type: ignore[no-any-return]

    async def settled(self, *, within: float = 10.0) -> None:
        """Every update so far handled, and every reply finished."""
        async with asyncio.timeout(within):
            await self.until(lambda: not len(self.account.queue), within=within)
            await self.runtime.pipeline.queues.join()

    def private(self, user: User) -> Chat:
        return self.sandbox.private_chat(self.account, user)

    async def confirmation(self, chat: Chat, *, after: int = 0) -> Message:
        """The bot's "Allow?" question (a message with approve: buttons) in this chat."""

        def asked() -> Message | None:
            for message in self.bot_messages(chat, after=after):
                rows = (message.reply_markup or {}).get("inline_keyboard", [])
                if any(b.get("callback_data", "").startswith("approve:") for r in rows for b in r):
                    return message
            return None

        return await self.until(asked)  # type: ignore[no-any-return]

    def press(self, user: User, message: Message, *, allow: bool) -> str:
        """Press Allow or Don't on a confirmation; returns the callback query id."""
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        wanted = ":yes" if allow else ":no"
        data = next(
            b["callback_data"] for r in rows for b in r if b["callback_data"].endswith(wanted)
        )
        return self.sandbox.people.press_button(user, message, data)


@pytest.fixture
async def fake_vendors() -> AsyncIterator[FakeLLMVendors]:
    async with FakeLLMVendors() as fake:
        yield fake


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(flood=FloodPolicy(enabled=False), anti_spin=False) as running_sandbox:
        yield running_sandbox


def magpie_settings(
    sandbox: Sandbox, tmp_path: Path, database_url: str, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_url": sandbox.url,
        "data_dir": tmp_path,
        "database_url": database_url,
        "llm_model": "offline",
        "offline_words_per_second": 0,  # at once: tests wait for states, not for a pace
        # the outgoing limiter is on, at rates no test reaches (its waits are not slept):
        # tests/limits and tests/bench hold it to Telegram's numbers
        "send_per_chat_per_second": 10_000,
        "send_per_group_per_minute": 600_000,
        "send_per_second": 100_000,
        # per-user limits off, but where a test sets them (tests/e2e/test_user_limits.py)
        "user_messages_per_minute": 0,
        "user_messages_per_day": 0,
        "user_tokens_per_minute": 0,
        "user_tokens_per_day": 0,
        "log_format": "console",
    }
    return load_settings(env_file=None, **(values | overrides))


@pytest.fixture
async def magpie(sandbox: Sandbox, tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    """Magpie on the offline model, once on SQLite and once on PostgreSQL."""
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    settings = magpie_settings(sandbox, tmp_path, database_url)
    async with start(sandbox, account, settings) as harness:
        yield harness


@pytest.fixture
async def vendor_magpie(
    sandbox: Sandbox, tmp_path: Path, database_url: str, fake_vendors: FakeLLMVendors
) -> AsyncIterator[Harness]:
    """Magpie on an OpenAI-compatible model served by the fake vendor at the wire."""
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    settings = magpie_settings(sandbox, tmp_path, database_url, **on_fake_openai(fake_vendors))
    async with start(sandbox, account, settings) as harness:
        yield harness


def on_fake_openai(fake: FakeLLMVendors) -> dict[str, str]:
    """Settings that point Magpie's primary model at the fake OpenAI server."""
    return {
        "llm_model": "openai:gpt-4o-mini",
        "openai_base_url": fake.openai_base_url,
        "openai_api_key": fake.api_key,
    }


class start:
    """Run Magpie (polling) against a sandbox until the block ends; `extra` providers override
    Magpie's own (a clock, a model)."""

    def __init__(
        self,
        sandbox: Sandbox,
        account: BotAccount,
        settings: Settings,
        *,
        extra: list[Provider] | None = None,
    ) -> None:
        self.sandbox, self.account, self.settings = sandbox, account, settings
        self.extra = extra or []
        self._stop = asyncio.Event()

    async def __aenter__(self) -> Harness:
        self._running = running(self.settings, extra=[FastPacing(), *self.extra])
        runtime = await self._running.__aenter__()
        self._serving = asyncio.create_task(serve(runtime, stop=self._stop))
        return Harness(self.sandbox, self.account, runtime, self.settings)

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await self._serving
        await self._running.__aexit__(None, None, None)
