"""Telegram having a bad moment on the final message: the answer still arrives, once; when it
cannot, the turn is recorded as undelivered — never as answered."""

from __future__ import annotations

from sqlalchemy import select
from structlog.testing import capture_logs

from magpie.storage.database import Database
from magpie.storage.inbox import Inbox
from magpie.storage.tables import InboxRow, TurnRow
from tests.e2e.conftest import Harness


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
