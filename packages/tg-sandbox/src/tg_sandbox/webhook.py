"""Webhook delivery: POST each update, retry with backoff, run a method returned in the reply."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from tg_sandbox.bots import BotAccount, WebhookConfig
from tg_sandbox.params import Params
from tg_sandbox.updates import QueuedUpdate

log = structlog.get_logger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
NOT_FROM_WEBHOOK = frozenset({"deletewebhook", "setwebhook", "close", "logout"})

Execute = Callable[[BotAccount, str, Params], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff between attempts; Telegram caps it at about a minute."""

    base: float = 1.0
    cap: float = 60.0
    timeout: float = 60.0


class WebhookDelivery:
    """One delivery loop per bot with a webhook; updates of one chat go out in order."""

    def __init__(self, execute: Execute, retry: RetryPolicy | None = None) -> None:
        self._execute = execute
        self._retry = retry or RetryPolicy()
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    def restart(self, bot: BotAccount) -> None:
        """Stop the bot's loop and start a fresh one if it has a webhook."""
        old = self._loops.pop(bot.token, None)
        if old is not None:
            old.cancel()
        if bot.webhook is not None:
            self._loops[bot.token] = asyncio.create_task(self._run(bot, bot.webhook))

    async def close(self) -> None:
        loops = list(self._loops.values())
        self._loops.clear()
        for task in loops:
            task.cancel()
        for task in loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _run(self, bot: BotAccount, hook: WebhookConfig) -> None:
        sending: dict[int, asyncio.Task[None]] = {}
        busy_chats: set[int] = set()
        finished = asyncio.Event()

        def done(update: QueuedUpdate) -> None:
            sending.pop(update.update_id, None)
            if update.chat_key is not None:
                busy_chats.discard(update.chat_key)
            finished.set()

        try:
            while True:
                finished.clear()
                pushes_seen = bot.queue.pushes
                for update in self._eligible(bot, sending, busy_chats, hook.max_connections):
                    if update.chat_key is not None:
                        busy_chats.add(update.chat_key)
                    task = asyncio.create_task(self._deliver(bot, hook, update))
                    sending[update.update_id] = task
                    task.add_done_callback(functools.partial(_finished, done, update))
                pushed = asyncio.ensure_future(bot.queue.wait(3600, pushes_seen=pushes_seen))
                freed = asyncio.ensure_future(finished.wait())
                try:
                    await asyncio.wait({pushed, freed}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    pushed.cancel()
                    freed.cancel()
        finally:
            for task in list(sending.values()):
                task.cancel()

    @staticmethod
    def _eligible(
        bot: BotAccount, sending: dict[int, Any], busy: set[int], limit: int
    ) -> list[QueuedUpdate]:
        """Oldest first, at most one per chat in flight, at most `limit` connections."""
        chosen: list[QueuedUpdate] = []
        seen: set[int] = set()
        room = limit - len(sending)
        for update in bot.queue.take(100):
            if room <= len(chosen):
                break
            key = update.chat_key
            if update.update_id in sending:
                if key is not None:
                    seen.add(key)
                continue
            if key is not None and (key in busy or key in seen):
                continue
            if key is not None:
                seen.add(key)
            chosen.append(update)
        return chosen

    async def _deliver(self, bot: BotAccount, hook: WebhookConfig, update: QueuedUpdate) -> None:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        body = json.dumps(update.as_json(), ensure_ascii=False).encode()
        attempt = 0
        timeout = aiohttp.ClientTimeout(total=self._retry.timeout)
        while True:
            retry_after: float | None = None
            try:
                async with self._client().post(
                    hook.url, data=body, headers=headers, timeout=timeout
                ) as response:
                    if 200 <= response.status < 300:
                        reply = await response.read()
                        bot.queue.remove(update.update_id)
                        await self._run_reply(bot, response.content_type, reply)
                        return
                    hook.last_error_message = (
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
                    header = response.headers.get("Retry-After")
                    if header and header.isdigit():
                        retry_after = min(3600.0, float(header))
            except (aiohttp.ClientError, TimeoutError) as error:
                hook.last_error_message = _connection_error(error)
            hook.last_error_date = int(bot.queue.clock.now())
            if not bot.queue.holds(update.update_id):
                return  # expired or dropped meanwhile
            delay = min(self._retry.cap, self._retry.base * 2**attempt)
            delay = retry_after if retry_after is not None else delay * random.uniform(0.8, 1.2)
            attempt += 1
            await asyncio.sleep(delay)

    async def _run_reply(self, bot: BotAccount, content_type: str, body: bytes) -> None:
        """Telegram executes a method the bot puts in its webhook reply (except a few)."""
        if not body.strip():
            return
        try:
            if content_type == "application/json":
                data = json.loads(body)
            else:
                return
        except ValueError:
            return
        if not isinstance(data, dict) or not isinstance(data.get("method"), str):
            return
        method = data.pop("method")
        if method.lower() in NOT_FROM_WEBHOOK or method.lower().startswith("get"):
            return
        await self._execute(bot, method, Params.of(data))


def _finished(
    done: Callable[[QueuedUpdate], None], update: QueuedUpdate, _task: asyncio.Task[None]
) -> None:
    done(update)


def _connection_error(error: BaseException) -> str:
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return "Read timeout expired"
    if isinstance(error, aiohttp.ClientConnectorError):
        return "Connection refused"
    return "Webhook connection closed"
