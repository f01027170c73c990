"""Stars payments against the real ledger (SQLite and PostgreSQL): credited once however many
deliveries race, refunds only within the policy and only once Telegram agrees, and
reconciliation that reports differences without touching the books."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from magpie.billing import accounts
from magpie.billing.ledger import Kind, Posting, transfer
from magpie.billing.stars import Refusal, Stars, StarTransaction, invoice_payload
from magpie.storage.database import Database
from magpie.storage.ledger import SqlLedger
from tests.billing.conftest import FakeTelegramStars, Now

ANN = 1


@pytest.fixture
def now() -> Now:
    return Now()


@pytest.fixture
def ledger(migrated_db: Database) -> SqlLedger:
    return SqlLedger(migrated_db)


@pytest.fixture
def stars(ledger: SqlLedger, now: Now) -> Stars:
    return Stars(ledger, packages=(50, 100), refund_days=21, now=now)


async def test_a_thousand_concurrent_credits_of_one_charge_credit_once(
    stars: Stars, ledger: SqlLedger
) -> None:
    results = await asyncio.gather(
        *(
            stars.credit(charge_id="stx-1", user_id=ANN, stars=50, payload="stars:1:50")
            for _ in range(1000)
        )
    )
    assert results.count(True) == 1
    assert await ledger.balance(accounts.wallet(ANN)) == 50_000
    assert await ledger.balance(accounts.PAYMENTS) == -50_000
    assert len(await ledger.payments()) == 1


def test_pre_checkout_accepts_only_our_own_current_invoices(stars: Stars) -> None:
    ok = {
        "user_id": ANN,
        "currency": "XTR",
        "total_amount": 50,
        "payload": invoice_payload(ANN, 50),
    }
    assert stars.checkout_error(**ok) is None  # type: ignore[arg-type]
    for wrong, reason in (
        ({"currency": "USD"}, "unknown invoice"),
        ({"payload": "something else"}, "unknown invoice"),
        ({"user_id": 2}, "this invoice is someone else's"),
        ({"total_amount": 1}, "this package is no longer offered"),
        ({"payload": invoice_payload(ANN, 75), "total_amount": 75}, "no longer offered"),
    ):
        assert reason in (stars.checkout_error(**(ok | wrong)) or "")  # type: ignore[arg-type]


async def test_refund_policy_unknown_too_old_spent_and_already(
    stars: Stars, ledger: SqlLedger, now: Now
) -> None:
    telegram = FakeTelegramStars()
    assert (await stars.refund("nope", telegram)).refusal is Refusal.UNKNOWN
    await stars.credit(charge_id="old", user_id=ANN, stars=50, payload="p")
    now.advance(days=22)
    assert (await stars.refund("old", telegram)).refusal is Refusal.TOO_OLD
    await stars.credit(charge_id="new", user_id=ANN, stars=100, payload="p")
    await ledger.post(_spend(120_000, now))  # more than the older payment's worth is spent
    assert (await stars.refund("new", telegram)).refusal is Refusal.SPENT
    assert telegram.refunded == []  # Telegram was never asked
    await stars.credit(charge_id="more", user_id=ANN, stars=100, payload="p")
    result = await stars.refund("new", telegram)
    assert result.refunded and telegram.refunded == ["new"]
    assert await ledger.balance(accounts.wallet(ANN)) == 150_000 - 120_000 + 100_000 - 100_000
    assert await ledger.balance(accounts.REFUNDS) == 100_000
    assert (await stars.refund("new", telegram)).refusal is Refusal.ALREADY
    assert not await stars.refunded("new")  # Telegram's refunded_payment: already recorded


async def test_a_refund_telegram_refuses_leaves_the_books_as_they_were(
    stars: Stars, ledger: SqlLedger
) -> None:
    await stars.credit(charge_id="c1", user_id=ANN, stars=50, payload="p")
    before = await ledger.balances()
    result = await stars.refund("c1", FakeTelegramStars(refuse="CHARGE_ALREADY_REFUNDED"))
    assert not result.refunded and result.refusal is Refusal.TELEGRAM
    assert result.reason == "CHARGE_ALREADY_REFUNDED"
    assert await ledger.balances() == before
    assert not (await ledger.payment("c1")).refunded  # type: ignore[union-attr]


async def test_a_refund_made_elsewhere_is_recorded_from_telegrams_update(
    stars: Stars, ledger: SqlLedger
) -> None:
    await stars.credit(charge_id="c1", user_id=ANN, stars=50, payload="p")
    assert await stars.refunded("c1")
    assert not await stars.refunded("c1")
    assert await ledger.balance(accounts.wallet(ANN)) == 0


async def test_reconciliation_pages_through_and_reports_without_fixing(
    stars: Stars, ledger: SqlLedger
) -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    telegram = FakeTelegramStars()
    for n in range(230):  # three pages of 100
        charge = f"c{n}"
        if n != 7:  # c7: Telegram has it, we never recorded it (a lost update)
            await stars.credit(charge_id=charge, user_id=ANN, stars=50, payload="p")
        telegram.listed.append(StarTransaction(charge, 50, True, ANN, at))
    await stars.credit(charge_id="ghost", user_id=ANN, stars=100, payload="p")  # not Telegram's
    await stars.credit(charge_id="c300", user_id=ANN, stars=50, payload="p")
    telegram.listed.append(StarTransaction("c300", 100, True, ANN, at))  # amounts differ
    before = await ledger.balances()
    report = await stars.reconcile(telegram)
    assert report.checked == 231 and not report.clean
    assert [p.charge_id for p in report.missing] == ["ghost"]
    assert [t.id for t in report.unknown] == ["c7"]
    assert [(p.charge_id, t.amount) for p, t in report.mismatched] == [("c300", 100)]
    assert await ledger.balances() == before  # reported, never silently fixed
    await stars.refund("c1", telegram)
    assert (await stars.reconcile(telegram)).refunds_unmatched == ["user 1: 50 Stars"]
    telegram.listed.append(StarTransaction("c1", 50, False, ANN, at))
    assert (await stars.reconcile(telegram)).refunds_unmatched == []


def _spend(amount: int, now: Now) -> Posting:
    return transfer(
        Kind.USAGE,
        source=accounts.wallet(ANN),
        target=accounts.REVENUE,
        amount=amount,
        at=now(),
        user_id=ANN,
        model="m",
    )
