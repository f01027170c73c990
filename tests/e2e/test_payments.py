"""Telegram Stars end to end in the sandbox, on SQLite and PostgreSQL: invoice → pre-checkout →
payment → balance → spend → refund; refused refunds; redelivered and duplicated payments."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func, select, text
from structlog.testing import capture_logs
from tg_sandbox import BotAccount, Message, Sandbox, User

from magpie.billing import accounts
from magpie.storage.database import Database, create_engine
from magpie.storage.inbox import Inbox
from magpie.storage.ledger import SqlLedger
from magpie.storage.migrate import upgrade
from magpie.storage.tables import PostingRow, TurnRow
from magpie.texts import ENGLISH
from tests.e2e.conftest import TOKEN, Harness, magpie_settings, start

PRICED = '{"offline": {"input": 0, "output": 1000000}}'  # 1 credit per output token


@contextlib.asynccontextmanager
async def shop(
    sandbox: Sandbox, tmp_path: Path, database_url: str, **overrides: Any
) -> AsyncIterator[tuple[Harness, User, User]]:
    """Magpie on a priced offline model with no free allowance; Ann buys, Olga administers."""
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    ann, olga = sandbox.add_user("Ann"), sandbox.add_user("Olga")
    values: dict[str, Any] = {
        "bot_admins": str(olga.id),
        "billing_prices": PRICED,
        "billing_free_daily": 0,
    }
    settings = magpie_settings(sandbox, tmp_path, database_url, **(values | overrides))
    async with start(sandbox, account, settings) as h:
        yield h, ann, olga


async def say(h: Harness, user: User, words: str) -> str:
    return (await h.reply_to(h.sandbox.people.send_text(user, h.account, words))).text or ""


async def invoice_for(h: Harness, user: User, stars: int) -> Message:
    offer = await h.reply_to(h.sandbox.people.send_text(user, h.account, "/buy"))
    assert offer.text == ENGLISH.buy
    h.sandbox.people.press_button(user, offer, f"buy:{stars}")

    def invoice() -> Message | None:
        found = [
            m
            for m in h.bot_messages(h.private(user), after=offer.message_id)
            if "invoice" in m.content
        ]
        return found[-1] if found else None

    return await h.until(invoice)  # type: ignore[no-any-return]


async def buy(h: Harness, user: User, stars: int) -> str:
    """Buy a package; the charge id."""
    outcome = await h.sandbox.people.pay(user, await invoice_for(h, user, stars))
    assert outcome.paid, outcome.error_message
    await h.settled()
    assert outcome.charge_id is not None
    return outcome.charge_id


async def wallet(h: Harness, user: User) -> int:
    return await SqlLedger(await h.runtime.container.get(Database)).balance(
        accounts.wallet(user.id)
    )


async def test_buy_pay_spend_and_refund_in_the_sandbox(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    async with shop(sandbox, tmp_path, database_url) as (h, ann, olga):
        allowed = await h.until(lambda: h.account.allowed_updates)  # what Magpie polls for
        assert {"pre_checkout_query", "callback_query", "message"} <= set(allowed)

        limited = await say(h, ann, "hello, are you there?")  # no credit yet
        assert limited == ENGLISH.limit_no_credit.format(balance="0")
        assert not h.sandbox.transcript(method="sendMessageDraft")  # the model was not asked
        assert await wallet(h, ann) == 0

        first = await buy(h, ann, 50)
        assert h.bot_messages(h.private(ann))[-1].text == ENGLISH.paid.format(
            stars=50, balance="50", charge_id=first
        )
        answered = await say(h, ann, "now tell me something")
        assert "You wrote: now tell me something" in answered
        spent = 50_000 - await wallet(h, ann)
        assert spent > 0
        db = await h.runtime.container.get(Database)
        async with db.read() as connection:
            costs = (await connection.execute(select(TurnRow.outcome, TurnRow.cost))).all()
        assert sorted(costs) == sorted([("limited", 0), ("answered", spent)])  # cost with turn

        shown = await say(h, ann, "/balance")
        assert shown.startswith(f"Your balance: ⭐ {(50_000 - spent) / 1000:g}")
        assert "usage offline" in shown and "payment 50 Stars: +50" in shown
        assert "offline: 1 answers" in await say(h, ann, "/usage")
        assert await say(h, ann, "/paysupport") == ENGLISH.paysupport.format(days=21)

        refused = await say(h, olga, f"/refund {first}")  # part of it was spent
        assert refused == ENGLISH.refund_refused_spent.format(
            balance=f"{(50_000 - spent) / 1000:g}"
        )
        assert not h.sandbox.transcript(method="refundStarPayment")  # Telegram not even asked

        second = await buy(h, ann, 100)
        assert await say(h, ann, f"/refund {second}") == ENGLISH.refund_admins_only
        done = await say(h, olga, f"/refund {second}")
        assert done == ENGLISH.refund_done.format(stars=100, user_id=ann.id)
        await h.settled()  # Telegram's refunded_payment update comes too: recorded already
        assert await wallet(h, ann) == 50_000 - spent
        assert await say(h, olga, f"/refund {second}") == ENGLISH.refund_refused_already
        refunds = [c for c in h.sandbox.transcript(method="refundStarPayment") if c.ok]
        assert len(refunds) == 1


async def test_a_refund_telegram_refuses_changes_nothing_and_says_so(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    async with shop(sandbox, tmp_path, database_url) as (h, ann, olga):
        charge = await buy(h, ann, 100)
        before = await SqlLedger(await h.runtime.container.get(Database)).balances()
        h.sandbox.inject(
            "refundStarPayment", status=400, description="Bad Request: CHARGE_NOT_FOUND"
        )
        with capture_logs() as logs:
            answer = await say(h, olga, f"/refund {charge}")
        assert answer == ENGLISH.refund_refused_telegram.format(
            reason="Bad Request: CHARGE_NOT_FOUND"
        )
        assert any(e["event"] == "billing.refund_refused" for e in logs)
        assert await SqlLedger(await h.runtime.container.get(Database)).balances() == before
        assert await wallet(h, ann) == 100_000


async def test_a_payment_received_before_a_crash_is_credited_once_after_it(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    """The receipt was recorded in the inbox and acknowledged, then Magpie died before the
    credit was written: the next start credits it; a lost done mark does not credit it twice."""
    account: BotAccount = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    ann = sandbox.add_user("Ann")
    settings = magpie_settings(sandbox, tmp_path, database_url)
    async with start(sandbox, account, settings) as h:
        invoice = await invoice_for(h, ann, 50)
    receipt = await _pay_while_magpie_is_down(sandbox, account, ann, invoice)
    engine = create_engine(settings.sqlalchemy_url, pooled=False)
    await upgrade(engine)
    await Inbox(Database(engine)).record([(receipt["update_id"], json.dumps(receipt))])
    await engine.dispose()

    async with start(sandbox, account, settings) as h:
        await h.settled()
        assert await wallet(h, ann) == 50_000
    engine = create_engine(settings.sqlalchemy_url, pooled=False)
    async with engine.begin() as connection:  # as if the done mark was lost as well
        await connection.execute(text("UPDATE inbox SET status = 'pending'"))
    await engine.dispose()
    async with start(sandbox, account, settings) as h:
        await h.settled()
        assert await wallet(h, ann) == 50_000
        thanks = [m for m in h.bot_messages(h.private(ann)) if (m.text or "").startswith("Thank")]
        assert len(thanks) == 1


async def _pay_while_magpie_is_down(
    sandbox: Sandbox, account: BotAccount, user: User, invoice: Message
) -> dict[str, Any]:
    """Pay, answering the pre-checkout query as the bot over the Bot API; the receipt's update
    as Telegram delivered it (taken off the queue: Telegram considers it delivered)."""
    paying = asyncio.ensure_future(sandbox.people.pay(user, invoice))
    session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url))
    bot = Bot(TOKEN, session=session)
    try:
        query = await _queued(sandbox, account, "pre_checkout_query")
        await bot.answer_pre_checkout_query(query["pre_checkout_query"]["id"], ok=True)
    finally:
        await session.close()
    assert (await paying).paid
    return await _queued(sandbox, account, "message")


async def _queued(sandbox: Sandbox, account: BotAccount, kind: str) -> dict[str, Any]:
    """The first queued update of `kind`, taken off the queue; waits for the world to change."""
    world = sandbox.world
    async with asyncio.timeout(10):
        while True:
            for queued in account.queue.take(100):
                update = queued.as_json()
                if kind in update:
                    account.queue.remove(queued.update_id)
                    return update
            await world.wait_for_change(world.version, 1.0)


async def test_a_thousand_deliveries_of_one_payment_credit_it_once(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    """The receipt delivered once by Telegram, then the same receipt under 1,000 more update
    ids, all at once, through the inbox path: one credit, one thank-you."""
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    ann = sandbox.add_user("Ann")
    settings = magpie_settings(sandbox, tmp_path, database_url)
    async with start(sandbox, account, settings) as h:
        await buy(h, ann, 250)
        receipt = next(
            m for m in h.private(ann).messages.values() if "successful_payment" in m.content
        )
        payload = sandbox.message_json(receipt)
        copies = [{"update_id": 500_000 + n, "message": payload} for n in range(1000)]
        await asyncio.gather(*(h.runtime.pipeline.accept_raw(c) for c in copies))
        await h.settled(within=120)
        assert await wallet(h, ann) == 250_000
        db = await h.runtime.container.get(Database)
        async with db.read() as connection:
            payments = await connection.scalar(
                select(func.count()).select_from(PostingRow).where(PostingRow.kind == "payment")
            )
        assert payments == 1
        thanks = [m for m in h.bot_messages(h.private(ann)) if (m.text or "").startswith("Thank")]
        assert len(thanks) == 1


async def test_reconcile_from_the_command_line(
    sandbox: Sandbox, tmp_path: Path, database_url: str, monkeypatch: Any, capsys: Any
) -> None:
    from magpie.billing.stars import Stars
    from magpie.cli import main

    async with shop(sandbox, tmp_path, database_url) as (h, ann, _):
        await buy(h, ann, 50)
        for name, value in (
            ("DATABASE_URL", database_url),
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_API_URL", sandbox.url),
        ):
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        assert await asyncio.to_thread(main, ["billing", "reconcile"]) == 0
        assert "the books agree" in capsys.readouterr().out
        stars = await h.runtime.container.get(Stars)
        await stars.credit(charge_id="stx-ghost", user_id=ann.id, stars=100, payload="p")
        assert await asyncio.to_thread(main, ["billing", "reconcile", "--json"]) == 1
        report = json.loads(capsys.readouterr().out.splitlines()[-1])  # after the log lines
        assert report["missing"] == ["stx-ghost"] and report["unknown"] == []
        assert await wallet(h, ann) == 150_000  # reported, not fixed


async def test_in_the_demo_a_person_sees_costs_and_hits_the_free_limit(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    from magpie.demo import DEMO_BILLING

    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    you = sandbox.add_user("You")
    settings = magpie_settings(sandbox, tmp_path, database_url, **DEMO_BILLING)
    async with start(sandbox, account, settings) as h:
        answered = 0
        for n in range(12):
            reply = await say(h, you, f"tell me about birds, part {n}")
            if reply.startswith("You've used today's free allowance"):
                break
            answered += 1
        assert 2 <= answered < 12  # a handful of answers, then the friendly limit
        assert "/buy" in reply
        usage = await say(h, you, "/usage")
        assert f"offline: {answered} answers" in usage
        await buy(h, you, 50)
        assert "You wrote:" in await say(h, you, "and now?")  # bought, chatting again


async def test_a_group_admin_sponsors_the_group_and_members_chat_on_the_pool(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    async with shop(sandbox, tmp_path, database_url) as (h, ann, olga):
        bob = sandbox.add_user("Bob")
        group = sandbox.add_group("Trip", members=[olga, ann, bob], creator=olga)
        sandbox.add_bot_to_chat(h.account, group)
        await h.settled()  # its hello first

        async def in_group(user: User, words: str) -> str:
            return (await h.reply_to(sandbox.people.send_text(user, group, words))).text or ""

        assert await in_group(olga, "/sponsor@magpie_bot 5") == ENGLISH.sponsor_short.format(
            balance="0"
        )
        await buy(h, olga, 50)
        assert await in_group(olga, "/sponsor@magpie_bot 5") == ENGLISH.sponsored.format(
            stars=5, balance="5"
        )
        assert await in_group(bob, "/pool@magpie_bot pool_only") == ENGLISH.pool_admins_only
        assert await in_group(bob, "/sponsor@magpie_bot 1") == ENGLISH.sponsor_admins_only
        assert "You wrote:" in await in_group(ann, "@magpie_bot what's the plan?")
        assert await wallet(h, ann) == 0  # the pool paid: Ann has no credit of her own
        pool = await SqlLedger(await h.runtime.container.get(Database)).balance(
            accounts.pool(group.id)
        )
        assert 0 < pool < 5_000
        set_ = await in_group(olga, "/pool@magpie_bot pool_only")
        assert set_ == ENGLISH.pool_set.format(mode=ENGLISH.pool_mode_pool_only)
        assert "members never pay" in await in_group(bob, "/pool@magpie_bot")
