"""The one sending path, through aiogram's real client and the sandbox's fault injection: what
is worth retrying is retried (waits recorded, never slept), what is not reaches the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter, TelegramServerError
from structlog.testing import capture_logs
from tg_sandbox import FloodPolicy, Sandbox, User

from magpie.observability.metrics import Metrics
from magpie.telegram.delivery import Delivery, DeliveryPolicy, best_effort

TOKEN = "7000000001:SANDBOX-delivery"


class Waits:
    """The sleep the sending path asks for, recorded instead of slept."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(flood=FloodPolicy(enabled=False), anti_spin=False) as running:
        running.add_bot(token=TOKEN, username="magpie_bot")
        yield running


@pytest.fixture
def ann(sandbox: Sandbox) -> User:
    person = sandbox.add_user("Ann")
    sandbox.people.send_text(person, sandbox.bot("magpie_bot"), "/start")
    return person


class Sending:
    def __init__(self, sandbox: Sandbox, *, timeout: float = 60.0) -> None:
        self.waits, self.metrics = Waits(), Metrics()
        session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url), timeout=timeout)
        self.bot = Bot(TOKEN, session=session)
        self.bot.session.middleware(
            Delivery(self.metrics, DeliveryPolicy(max_retry_after=30), sleep=self.waits)
        )

    def count(self, name: str, method: str, reason: str) -> float:
        value = self.metrics.registry.get_sample_value(name, {"method": method, "reason": reason})
        return value or 0.0


@pytest.fixture
async def sending(sandbox: Sandbox) -> AsyncIterator[Sending]:
    made = Sending(sandbox)
    yield made
    await made.bot.session.close()


def texts_sent(sandbox: Sandbox, ann: User) -> list[str]:
    chat = sandbox.private_chat(sandbox.bot("magpie_bot"), ann)
    return [m.text or "" for m in chat.messages.values() if m.sender_id != ann.id]


async def test_server_errors_and_resets_are_retried_with_backoff(
    sandbox: Sandbox, sending: Sending, ann: User
) -> None:
    sandbox.inject("sendMessage", status=502)
    sandbox.inject("sendMessage", kind="reset")
    await sending.bot.send_message(ann.id, "made it")
    assert texts_sent(sandbox, ann) == ["made it"]  # once
    assert sending.waits.asked == [0.5, 1.0]
    assert sending.count("magpie_telegram_retries_total", "SendMessage", "transient") == 2


async def test_a_429_is_waited_out_for_its_retry_after(
    sandbox: Sandbox, sending: Sending, ann: User
) -> None:
    sandbox.inject("sendMessage", status=429, retry_after=7)
    await sending.bot.send_message(ann.id, "after the wait")
    assert sending.waits.asked == [7.0]
    assert texts_sent(sandbox, ann) == ["after the wait"]


async def test_a_429_longer_than_the_cap_fails_at_once_and_is_counted(
    sandbox: Sandbox, sending: Sending, ann: User
) -> None:
    sandbox.inject("sendMessage", status=429, retry_after=90)
    with capture_logs() as logs, pytest.raises(TelegramRetryAfter):
        await sending.bot.send_message(ann.id, "never")
    assert sending.waits.asked == []  # 90 s is not waited (it would hold the conversation)
    assert sending.count("magpie_telegram_undelivered_total", "SendMessage", "flood") == 1
    (line,) = [e for e in logs if e["event"] == "telegram.undelivered"]
    assert (line["method"], line["reason"], line["log_level"]) == ("SendMessage", "flood", "error")


async def test_an_outage_gives_up_after_the_last_attempt(
    sandbox: Sandbox, sending: Sending, ann: User
) -> None:
    sandbox.inject("sendMessage", status=500, times=10)
    with pytest.raises(TelegramServerError):
        await sending.bot.send_message(ann.id, "lost?")
    assert sending.waits.asked == [0.5, 1.0, 2.0]  # four attempts in all
    assert sending.count("magpie_telegram_undelivered_total", "SendMessage", "transient") == 1


async def test_a_hung_request_times_out_and_is_sent_again(sandbox: Sandbox, ann: User) -> None:
    sending = Sending(sandbox, timeout=0.5)
    try:
        sandbox.inject("sendMessage", kind="hang", hang_seconds=30)
        await sending.bot.send_message(ann.id, "second try")
    finally:
        sandbox.world.faults.release()
        await sending.bot.session.close()
    assert texts_sent(sandbox, ann) == ["second try"]
    assert sending.waits.asked == [0.5]


async def test_refusals_are_not_retried_and_previews_are_tried_once(
    sandbox: Sandbox, sending: Sending, ann: User
) -> None:
    sandbox.inject("sendMessage", status=400, description="Bad Request: chat not found")
    with pytest.raises(TelegramBadRequest):
        await sending.bot.send_message(ann.id, "no")
    sandbox.inject("sendMessage", status=502)
    with best_effort(), pytest.raises(TelegramServerError):
        await sending.bot.send_message(ann.id, "a preview")
    assert sending.waits.asked == []
