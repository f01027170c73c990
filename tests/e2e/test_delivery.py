"""Telegram having a bad moment on the final message: the answer still arrives, once; when it
cannot, the turn is recorded as undelivered — never as answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from structlog.testing import capture_logs
from tg_sandbox import Sandbox

from magpie.storage.database import Database
from magpie.storage.inbox import Inbox
from magpie.storage.tables import InboxRow, TurnRow
from tests.e2e.conftest import TOKEN, Harness, magpie_settings, on_fake_openai, start
from tests.fakes.llm_vendors import FakeLLMVendors, Reply


async def outcomes(h: Harness) -> list[str]:
    db = await h.runtime.container.get(Database)
    async with db.read() as connection:
        return list(await connection.scalars(select(TurnRow.outcome).order_by(TurnRow.id)))


async def test_one_server_error_on_the_final_message_loses_nothing(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    magpie.sandbox.inject("sendMessage", status=502)
    asked = magpie.sandbox.people.send_text(ann, magpie.account, "hello")
    reply = await magpie.reply_to(asked)
    assert "You wrote" in (reply.text or "")
    assert len(magpie.bot_messages(magpie.private(ann))) == 1
    assert await outcomes(magpie) == ["answered"]


async def test_a_reply_telegram_never_takes_is_not_recorded_as_answered(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    magpie.sandbox.inject("sendMessage", status=500, times=4)  # every attempt of the reply
    asked = magpie.sandbox.people.send_text(ann, magpie.account, "hello")
    with capture_logs() as logs:
        await magpie.settled(within=30)
    assert await outcomes(magpie) == ["undelivered"]
    await (await magpie.runtime.container.get(Inbox)).flush()  # marks ride on the next write
    db = await magpie.runtime.container.get(Database)
    async with db.read() as connection:
        row = (await connection.execute(select(InboxRow.status, InboxRow.error))).one()
    assert row.status == "failed" and "TelegramServerError" in (row.error or "")  # not "done"
    assert [e["event"] for e in logs if e["log_level"] == "error"] == [
        "telegram.undelivered",
        "reply.undelivered",
    ]  # no traceback: a line that says what did not go out
    assert not magpie.bot_messages(magpie.private(ann), after=asked.message_id)


async def test_a_reply_recorded_but_not_sent_is_sent_after_a_restart_without_asking_again(
    sandbox: Sandbox, tmp_path: Path, database_url: str, fake_vendors: FakeLLMVendors
) -> None:
    """Magpie stops between recording the reply and Telegram taking it: the next start sends
    the recorded reply, once, and does not ask the model again (or charge for it twice)."""
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    settings = magpie_settings(
        sandbox, tmp_path, database_url, **on_fake_openai(fake_vendors), shutdown_grace_seconds=0
    )
    fake_vendors.enqueue(Reply("The one and only answer."))
    ann = sandbox.add_user("Ann")
    async with start(sandbox, account, settings) as before:
        sandbox.inject("sendMessage", kind="hang", hang_seconds=5)
        asked = sandbox.people.send_text(ann, account, "hello")
        async with asyncio.timeout(10):  # until the reply is on its way (the hang has it)
            while sandbox.world.faults.pending():
                await sandbox.world.wait_for_change(sandbox.world.version, 0.05)
        assert await outcomes(before) == ["delivering"]
    sandbox.world.faults.release()
    async with start(sandbox, account, settings) as after:
        reply = await after.reply_to(asked)
        assert reply.text == "The one and only answer."
        assert await outcomes(after) == ["answered"]
    assert len(after.bot_messages(after.private(ann))) == 1
    assert len(fake_vendors.requests) == 1  # the model was asked once
