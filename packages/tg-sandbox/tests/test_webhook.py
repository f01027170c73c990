"""Webhook delivery: the secret header, retries with backoff, and a method in the reply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiogram.exceptions import TelegramBadRequest
from aiohttp import web

from tests.conftest import TOKEN, client_for, until
from tg_sandbox import FloodPolicy, ManualClock, RetryPolicy, Sandbox


@dataclass
class Receiver:
    """A bot's webhook endpoint that records what arrives and answers as scripted."""

    url: str = ""
    received: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    reply: dict[str, Any] | None = None
    arrived: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.received.append((update, request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        self.arrived.put_nowait(update)
        if self.statuses:
            return web.Response(status=self.statuses.pop(0))
        if self.reply is not None:
            return web.json_response(self.reply)
        return web.Response(status=200)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    hook.url = f"http://127.0.0.1:{port}/hook"
    yield hook
    await runner.cleanup()


@pytest.fixture
async def fast_retry_sandbox(clock: ManualClock) -> AsyncIterator[Sandbox]:
    retry = RetryPolicy(base=0.01, cap=0.05, timeout=5)
    async with Sandbox(clock=clock, flood=FloodPolicy(enabled=False), webhook_retry=retry) as sb:
        sb.add_bot(token=TOKEN, username="magpie_bot")
        yield sb


async def test_delivery_with_secret_header(fast_retry_sandbox: Sandbox, receiver: Receiver) -> None:
    bot = client_for(fast_retry_sandbox)
    try:
        assert await bot.set_webhook(receiver.url, secret_token="s3cr3t_-X") is True
        ann = fast_retry_sandbox.add_user("Ann")
        fast_retry_sandbox.people.send_text(ann, fast_retry_sandbox.bot(), "via webhook")
        update = await asyncio.wait_for(receiver.arrived.get(), 5)
        assert update["message"]["text"] == "via webhook"
        assert receiver.received[0][1] == "s3cr3t_-X"
        info = await bot.get_webhook_info()
        assert info.url == receiver.url and info.pending_update_count == 0
    finally:
        await bot.session.close()


async def test_no_secret_header_without_a_secret(
    fast_retry_sandbox: Sandbox, receiver: Receiver
) -> None:
    bot = client_for(fast_retry_sandbox)
    try:
        await bot.set_webhook(receiver.url)
        ann = fast_retry_sandbox.add_user("Ann")
        fast_retry_sandbox.people.send_text(ann, fast_retry_sandbox.bot(), "hi")
        await asyncio.wait_for(receiver.arrived.get(), 5)
        assert receiver.received[0][1] is None
    finally:
        await bot.session.close()


async def test_failed_deliveries_are_retried_in_order(
    fast_retry_sandbox: Sandbox, receiver: Receiver
) -> None:
    receiver.statuses = [500, 502]
    bot = client_for(fast_retry_sandbox)
    try:
        await bot.set_webhook(receiver.url)
        ann = fast_retry_sandbox.add_user("Ann")
        fast_retry_sandbox.people.send_text(ann, fast_retry_sandbox.bot(), "first")
        fast_retry_sandbox.people.send_text(ann, fast_retry_sandbox.bot(), "second")
        texts = []
        while len(texts) < 4:
            texts.append((await asyncio.wait_for(receiver.arrived.get(), 5))["message"]["text"])
        assert texts == ["first", "first", "first", "second"]
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
    finally:
        await bot.session.close()


async def test_method_in_the_webhook_reply_is_executed(
    fast_retry_sandbox: Sandbox, receiver: Receiver
) -> None:
    ann = fast_retry_sandbox.add_user("Ann")
    receiver.reply = {"method": "sendMessage", "chat_id": ann.id, "text": "answered inline"}
    bot = client_for(fast_retry_sandbox)
    try:
        await bot.set_webhook(receiver.url)
        fast_retry_sandbox.people.send_text(ann, fast_retry_sandbox.bot(), "ping")
        await asyncio.wait_for(receiver.arrived.get(), 5)
        chat = fast_retry_sandbox.private_chat(fast_retry_sandbox.bot(), ann)
        await until(lambda: any(m.text == "answered inline" for m in chat.messages.values()))
        assert [m.text for m in chat.messages.values()] == ["ping", "answered inline"]
    finally:
        await bot.session.close()


async def test_webhook_setting_errors_and_descriptions(sandbox: Sandbox) -> None:
    bot = client_for(sandbox)
    try:
        with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
            await bot.set_webhook("http://127.0.0.1:1/x", secret_token="no spaces")
        with pytest.raises(TelegramBadRequest, match="invalid webhook URL specified"):
            await bot.set_webhook("ftp://nowhere")
    finally:
        await bot.session.close()
    url = f"{sandbox.url}/bot{TOKEN}"
    async with aiohttp.ClientSession() as http:
        for path, description in [
            ("/deleteWebhook", "Webhook is already deleted"),
            ("/setWebhook?url=http://127.0.0.1:1/x", "Webhook was set"),
            ("/setWebhook?url=http://127.0.0.1:1/x", "Webhook is already set"),
            ("/deleteWebhook", "Webhook was deleted"),
        ]:
            async with http.post(url + path) as response:
                assert await response.json() == {
                    "ok": True,
                    "result": True,
                    "description": description,
                }
