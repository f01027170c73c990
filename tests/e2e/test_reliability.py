"""Bad days: Telegram 429s and 403s, model failures, stop buttons, duplicates, crashes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select, text
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs
from tg_sandbox import Sandbox

from magpie.storage.database import Database, create_engine
from magpie.storage.inbox import Inbox
from magpie.storage.migrate import upgrade
from magpie.storage.tables import InboxRow, MessageRow, TurnRow
from magpie.texts import ENGLISH
from tests.e2e.conftest import TOKEN, Harness, magpie_settings, start
from tests.fakes.llm_vendors import Fail, FakeLLMVendors, Reply


async def turns(h: Harness) -> list[TurnRow]:
    db = await h.runtime.container.get(Database)
    async with db.read() as connection:
        return list(await connection.execute(select(TurnRow).order_by(TurnRow.id)))


async def test_telegram_429_is_waited_out_and_the_reply_arrives(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    magpie.sandbox.inject("sendMessage", status=429, retry_after=1)
    asked = magpie.sandbox.people.send_text(ann, magpie.account, "hello")
    reply = await magpie.reply_to(asked)
    assert "offline" in (reply.text or "")
    outcomes = [(e.ok, e.error_code) for e in magpie.sandbox.transcript(method="sendMessage")]
    assert outcomes == [(False, 429), (True, None)]


async def test_a_blocked_user_costs_a_log_line_not_a_crash(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    magpie.sandbox.inject(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user", times=3
    )
    magpie.sandbox.people.send_text(ann, magpie.account, "are you there?")
    await magpie.settled()
    recorded = await turns(magpie)
    assert [t.outcome for t in recorded] == ["undelivered"]  # never "answered"
    assert "Forbidden" in (recorded[0].error or "")
    db = await magpie.runtime.container.get(Database)
    async with db.read() as connection:
        stored = list(await connection.scalars(select(MessageRow.text)))
    assert stored == ["are you there?"]  # the user's message is kept; no reply was delivered


async def test_model_failure_apologises_and_retry_answers(
    vendor_magpie: Harness, fake_vendors: FakeLLMVendors
) -> None:
    h = vendor_magpie
    ann = h.sandbox.add_user("Ann")
    fake_vendors.enqueue(*[Fail(status=500)] * 3)  # the first try and both retries
    failed = await h.reply_to(h.sandbox.people.send_text(ann, h.account, "What is 2+2?"))
    assert "Send /retry" in (failed.text or "")
    assert "model service failed" in (failed.text or "")
    fake_vendors.enqueue(Reply("4, of course."))
    retried = await h.reply_to(h.sandbox.people.send_text(ann, h.account, "/retry"))
    assert retried.text == "4, of course."
    assert fake_vendors.requests[-1].last_user_text == "What is 2+2?"
    assert [t.outcome for t in await turns(h)] == ["failed", "answered"]


async def test_rate_limited_model_says_so(
    vendor_magpie: Harness, fake_vendors: FakeLLMVendors
) -> None:
    ann = vendor_magpie.sandbox.add_user("Ann")
    fake_vendors.enqueue(Fail(status=429, retry_after=120))  # too long to wait: give up now
    asked = vendor_magpie.sandbox.people.send_text(ann, vendor_magpie.account, "hi")
    assert "rate-limited" in ((await vendor_magpie.reply_to(asked)).text or "")


async def test_empty_and_malformed_model_output(
    vendor_magpie: Harness, fake_vendors: FakeLLMVendors
) -> None:
    h = vendor_magpie
    ann = h.sandbox.add_user("Ann")
    fake_vendors.enqueue(Reply(""), Reply(""), Reply(""))  # Magpie asks again once
    empty = await h.reply_to(h.sandbox.people.send_text(ann, h.account, "say nothing"))
    assert empty.text == ENGLISH.model_empty
    assert len(fake_vendors.requests) == 2
    fake_vendors.enqueue(Reply("**unclosed bold and `code [link](javascript:alert(1))"))
    odd = await h.reply_to(h.sandbox.people.send_text(ann, h.account, "be weird"))
    assert odd.text is not None and "unclosed bold" in odd.text
    assert all(e["type"] != "text_link" for e in odd.content.get("entities", []))


async def test_a_long_answer_is_split_into_several_messages(
    vendor_magpie: Harness, fake_vendors: FakeLLMVendors
) -> None:
    h = vendor_magpie
    ann = h.sandbox.add_user("Ann")
    paragraphs = [f"Paragraph {i}: " + "word " * 150 for i in range(20)]
    fake_vendors.enqueue(Reply("\n\n".join(paragraphs), chunks=5))
    asked = h.sandbox.people.send_text(ann, h.account, "write a lot")
    await h.reply_to(asked)
    parts = [m.text or "" for m in h.bot_messages(h.private(ann))]
    assert len(parts) >= 4
    assert all(len(part) <= 4096 for part in parts)
    assert parts[0].startswith("Paragraph 0:") and parts[-1].rstrip().endswith("word")


async def test_stop_button_keeps_what_was_written(
    vendor_magpie: Harness, fake_vendors: FakeLLMVendors
) -> None:
    h = vendor_magpie
    ann = h.sandbox.add_user("Ann")
    words = " ".join(f"w{i}" for i in range(40))
    fake_vendors.enqueue(Reply(words, chunks=40, chunk_delay=0.2))
    asked = h.sandbox.people.send_text(ann, h.account, "count slowly")
    drafts = h.sandbox.world.live_drafts
    await h.until(lambda: any("w2" in d.text for d in drafts(h.account)))
    h.sandbox.people.press_stop(ann, h.account)
    reply = await h.reply_to(asked)
    assert reply.text is not None and reply.text.startswith("w0 w1 w2")
    assert reply.text.endswith("(stopped)") and "w39" not in reply.text
    assert [t.outcome for t in await turns(h)] == ["stopped"]


async def test_stop_command_in_a_group_cuts_the_edited_reply(
    vendor_magpie: Harness, fake_vendors: FakeLLMVendors
) -> None:
    h = vendor_magpie
    ann = h.sandbox.add_user("Ann")
    group = h.sandbox.add_group("G", members=[ann])
    h.sandbox.add_bot_to_chat(h.account, group)
    await h.until(lambda: h.bot_messages(group))
    words = " ".join(f"w{i}" for i in range(40))
    fake_vendors.enqueue(Reply(words, chunks=40, chunk_delay=0.2))
    asked = h.sandbox.people.send_text(ann, group, "@magpie_bot count slowly")
    await h.until(lambda: any("w2" in (m.text or "") for m in h.bot_messages(group)))
    h.sandbox.people.send_text(ann, group, "/stop@magpie_bot")
    reply = await h.reply_to(asked)
    assert (reply.text or "").endswith("(stopped)") and "w39" not in (reply.text or "")


async def test_pending_updates_from_a_crash_are_handled_on_start(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    ann = sandbox.add_user("Ann")
    message = sandbox.people.send_text(ann, account, "did you get this before the crash?")
    account.queue.clear()  # Telegram already considers it delivered
    settings = magpie_settings(sandbox, tmp_path, database_url)
    engine = create_engine(settings.sqlalchemy_url, pooled=False)
    await upgrade(engine)
    await Inbox(Database(engine)).record(
        [(4242, json.dumps({"update_id": 4242, "message": sandbox.message_json(message)}))]
    )
    await engine.dispose()
    async with start(sandbox, account, settings) as h:
        reply = await h.reply_to(message)
        assert "did you get this before the crash?" in (reply.text or "")


async def test_an_answer_whose_done_mark_was_lost_is_not_sent_again(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    """Done marks are written in batches; a crash can lose the last ones. The update is then
    handled again at start, and must not be answered a second time."""
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    ann = sandbox.add_user("Ann")
    settings = magpie_settings(sandbox, tmp_path, database_url)
    async with start(sandbox, account, settings) as h:
        await h.reply_to(sandbox.people.send_text(ann, account, "answer me once"))
    engine = create_engine(settings.sqlalchemy_url, pooled=False)
    try:
        async with engine.begin() as connection:  # as if the process died before the mark
            await connection.execute(text("UPDATE inbox SET status = 'pending'"))
    finally:
        await engine.dispose()

    async with start(sandbox, account, settings) as h:
        await h.settled()
        assert len(h.bot_messages(h.private(ann))) == 1
        assert [t.outcome for t in await turns(h)] == ["answered"]
        inbox = await h.runtime.container.get(Inbox)
        assert await inbox.pending() == []  # handled (again), and marked done this time


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_checks_the_secret_and_handles_each_update_once(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram"
    settings = magpie_settings(
        sandbox,
        tmp_path,
        database_url,
        webhook_url=hook,
        webhook_listen=f"127.0.0.1:{port}",
        webhook_secret="s3cret-token",
    )
    async with start(sandbox, account, settings) as h:
        await h.until(lambda: account.webhook is not None)
        ann = sandbox.add_user("Ann")
        asked = sandbox.people.send_text(ann, account, "via webhook")
        assert "via webhook" in ((await h.reply_to(asked)).text or "")
        posted = sandbox.message_json(asked) | {"message_id": 9_999, "text": "again?"}
        update = {"update_id": 777, "message": posted}
        async with aiohttp.ClientSession() as http:
            async with http.post(
                hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
            ) as response:
                assert response.status == 401
            for _ in range(2):  # Telegram may deliver twice; Magpie answers once
                async with http.post(
                    hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
                ) as response:
                    assert response.status == 200
            async with http.post(
                hook, data=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
            ) as response:
                assert response.status == 400
        await h.settled()
        assert len(h.bot_messages(h.private(ann))) == 2  # one for the real update, one for 777
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/metrics") as r,
        ):
            scraped = await r.text()
        assert 'magpie_turns_total{chat_type="private",outcome="answered"} 2.0' in scraped
        assert 'magpie_updates_total{kind="message",outcome="duplicate"} 1.0' in scraped


async def test_a_database_outage_loses_no_update(
    magpie: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("magpie.ingress.polling.RECORD_RETRY_SECONDS", 0.05)
    db = await magpie.runtime.container.get(Database)
    async with db.write() as connection:
        await connection.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))
    ann = magpie.sandbox.add_user("Ann")
    with capture_logs() as logs:
        asked = magpie.sandbox.people.send_text(ann, magpie.account, "are you there?")
        await magpie.until(lambda: any(e["event"] == "polling.record_failed" for e in logs))
    assert len(magpie.account.queue) == 1  # not acknowledged to Telegram
    async with db.write() as connection:
        await connection.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))
    reply = await magpie.reply_to(asked)
    assert "are you there?" in (reply.text or "")


async def test_a_crash_is_apologised_for_and_recorded_as_failed_not_done(magpie: Harness) -> None:
    """The operator can find it (inbox `failed`, with the error; a log line with who and
    where), and the user hears sorry."""
    ann = magpie.sandbox.add_user("Ann")
    db = await magpie.runtime.container.get(Database)
    async with db.write() as connection:
        await connection.execute(text("ALTER TABLE turns RENAME TO turns_gone"))  # turns fail
    with capture_logs(processors=[merge_contextvars]) as logs:
        asked = magpie.sandbox.people.send_text(ann, magpie.account, "hello?")
        await magpie.settled()
        inbox = await magpie.runtime.container.get(Inbox)
        await inbox.flush()

    texts = [m.text for m in magpie.bot_messages(magpie.private(ann), after=asked.message_id)]
    assert texts[-1] == ENGLISH.crashed
    async with db.read() as connection:
        row = (await connection.execute(select(InboxRow))).one()
    assert row.status == "failed"
    assert row.error and "turns" in row.error
    crashed = [e for e in logs if e["event"] == "update.crashed"]
    assert len(crashed) == 1
    assert (crashed[0]["update_id"], crashed[0]["chat_id"], crashed[0]["user_id"]) == (
        row.update_id,
        ann.id,
        ann.id,
    )
