"""A running Magpie behind its webhook: duplicates, outages, odd bodies (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select
from structlog.testing import capture_logs
from tg_sandbox import FloodPolicy, Message, RetryPolicy, Sandbox, User

from magpie.storage.database import Database
from magpie.storage.tables import InboxRow, MessageRow
from tests.e2e.conftest import TOKEN, Harness, magpie_settings, start
from tests.outages import outages

SECRET = "s3cret-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Hooked:
    """Magpie serving its webhook, and a way to post to it as Telegram would."""

    h: Harness
    url: str
    http: aiohttp.ClientSession

    async def post(self, body: bytes | dict[str, Any], *, secret: str = SECRET) -> int:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
        async with self.http.post(self.url, data=data, headers=headers) as response:
            return response.status

    def update_from(
        self, user: User, text: str, *, update_id: int
    ) -> tuple[Message, dict[str, Any]]:
        """A private message, and its update as Telegram would post it (we post it, not the
        sandbox, under our own update_id)."""
        message = self.h.sandbox.people.send_text(user, self.h.account, text)
        queue = self.h.account.queue
        mine = message.message_id
        queued = next(q for q in queue.take(100) if q.payload.get("message_id") == mine)
        queue.remove(queued.update_id)
        return message, queued.as_json() | {"update_id": update_id}

    async def inbox_row(self, update_id: int) -> Any:
        db = await self.h.runtime.container.get(Database)
        async with db.read() as connection:
            query = select(InboxRow).where(InboxRow.update_id == update_id)
            return (await connection.execute(query)).one_or_none()


@contextlib.asynccontextmanager
async def hooked(sandbox: Sandbox, tmp_path: Path, database_url: str) -> AsyncIterator[Hooked]:
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    settings = magpie_settings(
        sandbox,
        tmp_path,
        database_url,
        webhook_url=url,
        webhook_listen=f"127.0.0.1:{port}",
        webhook_secret=SECRET,
    )
    async with start(sandbox, account, settings) as h, aiohttp.ClientSession() as http:
        await h.until(lambda: account.webhook is not None)
        yield Hooked(h, url, http)


@contextlib.asynccontextmanager
async def fast_retrying_sandbox() -> AsyncIterator[Sandbox]:
    """Telegram retries a failed delivery after a while; here after a few tens of ms."""
    retry = RetryPolicy(base=0.05, cap=0.2, timeout=30.0)
    async with Sandbox(flood=FloodPolicy(enabled=False), anti_spin=False, webhook_retry=retry) as s:
        yield s


async def test_2000_concurrent_deliveries_of_one_update_get_one_answer(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    async with hooked(sandbox, tmp_path, database_url) as hook:
        ann = sandbox.add_user("Ann")
        _, update = hook.update_from(ann, "answer me once", update_id=5_000)
        room = asyncio.Semaphore(100)

        async def deliver() -> int:
            async with room:
                return await hook.post(update)

        statuses = await asyncio.gather(*(deliver() for _ in range(2_000)))
        await hook.h.settled(within=60)

        assert set(statuses) == {200}
        answers = hook.h.bot_messages(hook.h.private(ann))
        assert len(answers) == 1
        assert "answer me once" in (answers[0].text or "")


async def test_the_webhook_says_503_while_the_database_is_away_and_nothing_is_lost(
    tmp_path: Path, database_url: str
) -> None:
    async with (
        fast_retrying_sandbox() as sandbox,
        outages(database_url) as (url, outage),
        hooked(sandbox, tmp_path, url) as hook,
    ):
        ann = sandbox.add_user("Ann")
        hook_config = hook.h.account.webhook
        assert hook_config is not None
        with capture_logs() as logs:
            await outage.begin()
            asked = sandbox.people.send_text(ann, hook.h.account, "are you there?")
            await hook.h.until(lambda: "503" in (hook_config.last_error_message or ""), within=30)
            await outage.end()
            reply = await hook.h.reply_to(asked, within=30)

        assert "are you there?" in (reply.text or "")
        assert len(hook.h.bot_messages(hook.h.private(ann))) == 1
        failed = [e for e in logs if e["event"] == "webhook.record_failed"]
        assert failed and failed[0]["update_id"] and failed[0]["log_level"] == "error"
        db = await hook.h.runtime.container.get(Database)
        async with db.read() as connection:
            stored = list(await connection.scalars(select(MessageRow.text)))
        assert "are you there?" in stored


async def test_an_update_of_an_unknown_type_is_recorded_skipped_and_not_retried(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    async with hooked(sandbox, tmp_path, database_url) as hook:
        novel = {"update_id": 6_000, "hologram_call": {"id": "h1", "from": {"id": 1}}}
        with capture_logs() as logs:
            assert await hook.post(novel) == 200
            assert await hook.post(novel) == 200  # Telegram delivering it again
            await hook.h.settled()

        row = await hook.inbox_row(6_000)
        assert row is not None and row.status == "skipped"
        assert [e["event"] for e in logs if e["event"].startswith("update.")] == [
            "update.skipped",
            "update.duplicate",
        ]
        assert not [e for e in logs if e["log_level"] == "error"]


async def test_bodies_the_inbox_cannot_hold_get_400_and_are_not_recorded(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    async with hooked(sandbox, tmp_path, database_url) as hook:
        ann = sandbox.add_user("Ann")
        asked, update = hook.update_from(ann, "hi", update_id=7_000)
        deep = b'{"update_id": 7001, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        bad: dict[str, bytes | dict[str, Any]] = {
            "nested too deep": deep,
            "update_id 2**64": update | {"update_id": 2**64},
            "update_id 2**63": update | {"update_id": 2**63},
            "negative update_id": update | {"update_id": -1},
            "lone surrogate": json.dumps(update | {"x": "\ud800"}).encode(),
            "not JSON": b"{not json",
            "not an update": {"message": update["message"]},
        }
        statuses = {what: await hook.post(body) for what, body in bad.items()}
        assert statuses == dict.fromkeys(bad, 400)
        assert {
            "missing": await hook.post(update, secret=""),
            "wrong": await hook.post(update, secret="nope"),
            "a prefix": await hook.post(update, secret=SECRET[:-1]),
        } == dict.fromkeys(["missing", "wrong", "a prefix"], 401)
        await hook.h.settled()
        assert hook.h.bot_messages(hook.h.private(ann)) == []
        assert await hook.inbox_row(7_001) is None
        assert await hook.post(update) == 200  # and the real one still goes through
        assert "hi" in ((await hook.h.reply_to(asked)).text or "")
