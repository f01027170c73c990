"""The ledger's invariants under any sequence of operations, failures midway included
(hypothesis, on SQLite and PostgreSQL): every posting balanced, every account's balance the sum
of its entries, all entries summing to zero, and a failed operation leaving no trace."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from magpie.billing import accounts
from magpie.billing.ledger import Kind, Posting
from magpie.billing.money import stars_to_credits
from magpie.billing.policy import Payer, QuotaPolicy, Quotas, Standing, usage_lines
from magpie.billing.service import Billing
from magpie.billing.stars import Stars
from magpie.storage.database import Database
from magpie.storage.ledger import SqlLedger
from magpie.storage.tables import LedgerLineRow, PostingRow
from tests.billing.conftest import FakeTelegramStars, Injected, Now, failing_midway

USERS = st.integers(min_value=1, max_value=3)
GROUP = -100


@dataclass(frozen=True)
class Op:
    name: str
    user: int
    amount: int
    fail: bool
    agree: bool = True


ops = st.builds(
    Op,
    name=st.sampled_from(["pay", "grant", "sponsor", "spend", "refund", "reverse"]),
    user=USERS,
    amount=st.integers(min_value=1, max_value=5),
    fail=st.booleans(),
    agree=st.booleans(),
)


async def _check(db: Database, ledger: SqlLedger, expected: Counter[str] | None) -> None:
    balances = await ledger.balances()
    assert sum(balances.values()) == 0
    async with db.read() as connection:
        unbalanced = await connection.scalar(
            select(func.count()).select_from(
                select(LedgerLineRow.posting_id)
                .group_by(LedgerLineRow.posting_id)
                .having(func.sum(LedgerLineRow.amount) != 0)
                .subquery()
            )
        )
        lineless = await connection.scalar(
            select(func.count())
            .select_from(PostingRow)
            .where(~PostingRow.id.in_(select(LedgerLineRow.posting_id)))
        )
    assert unbalanced == 0 and lineless == 0
    for account, balance in balances.items():
        entries = await ledger.entries(account, limit=10_000)
        assert sum(e.amount for e in entries) == balance == await ledger.balance(account)
        assert [e.posting_id for e in entries] == sorted(
            (e.posting_id for e in entries), reverse=True
        )
    if expected is not None:
        assert {a: n for a, n in balances.items() if n} == {a: n for a, n in expected.items() if n}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(ops, max_size=14))
async def test_any_sequence_keeps_the_books_balanced(
    migrated_db: Database, sequence: list[Op]
) -> None:
    now = Now()
    ledger = SqlLedger(migrated_db)
    stars = Stars(ledger, packages=(1, 2, 3, 4, 5), refund_days=30, now=now)
    billing = Billing(ledger, policy=QuotaPolicy(Quotas(free_daily=0)), now=now)
    telegram = FakeTelegramStars()
    run = uuid.uuid4().hex[:8]
    expected: Counter[str] = Counter(await ledger.balances())
    paid: dict[str, tuple[int, int]] = {}
    refunded: set[str] = set()
    posted: list[tuple[int, Counter[str]]] = []
    reversed_: set[int] = set()

    for step, op in enumerate(sequence):
        charge = f"{run}-{op.user}-{op.amount}"  # repeats: the same payment delivered again
        wallet = accounts.wallet(op.user)
        before = Counter(await ledger.balances())
        effect: Counter[str] = Counter()
        with failing_midway(migrated_db) if op.fail else contextlib.nullcontext():
            try:
                if op.name == "pay":
                    new = charge not in paid
                    credited = await stars.credit(
                        charge_id=charge, user_id=op.user, stars=op.amount, payload="p"
                    )
                    assert credited == new  # once per charge id, however often delivered
                    if credited:
                        paid[charge] = (op.user, op.amount)
                        credits = stars_to_credits(op.amount)
                        effect = Counter({wallet: credits, accounts.PAYMENTS: -credits})
                elif op.name == "grant":
                    posting_id = await billing.grant(op.user, amount=op.amount * 100, reason="test")
                    effect = Counter({wallet: op.amount * 100, accounts.GRANTS: -op.amount * 100})
                    posted.append((posting_id, effect))
                elif op.name == "sponsor":
                    if await billing.sponsor(op.user, GROUP, amount=op.amount * 100):
                        effect = Counter(
                            {wallet: -op.amount * 100, accounts.pool(GROUP): op.amount * 100}
                        )
                elif op.name == "spend":
                    standing = Standing(wallet=before[wallet], pool=before[accounts.pool(GROUP)])
                    payer = Payer(op.user, GROUP, in_group=True)
                    parts = QuotaPolicy(Quotas()).split(payer, standing, op.amount * 70)
                    await ledger.post(
                        Posting(
                            Kind.USAGE, usage_lines(parts), now(), user_id=op.user, chat_id=GROUP
                        )
                    )
                    effect = Counter({a: -n for a, n in parts.items()})
                    effect[accounts.REVENUE] += op.amount * 70
                elif op.name == "refund":
                    telegram.refuse = None if op.agree else "CHARGE_ALREADY_REFUNDED"
                    target = next((c for c in paid if c not in refunded), charge)
                    result = await stars.refund(target, telegram)
                    if result.refunded:
                        refunded.add(target)
                        user, amount = paid[target]
                        effect = Counter(
                            {
                                accounts.wallet(user): -stars_to_credits(amount),
                                accounts.REFUNDS: stars_to_credits(amount),
                            }
                        )
                elif op.name == "reverse" and posted:
                    posting_id, original = posted[step % len(posted)]
                    if await billing.reverse(posting_id, reason="oops") is not None:
                        assert posting_id not in reversed_  # reversed once only
                        reversed_.add(posting_id)
                        effect = Counter({a: -n for a, n in original.items()})
            except Injected:
                assert op.fail
                effect = Counter()
                assert Counter(await ledger.balances()) == before  # a failure leaves no trace
        expected.update(effect)
        await _check(migrated_db, ledger, expected)
    # each charge credited once however often it was delivered
    credited = [p for p in await ledger.payments() if p.charge_id.startswith(run)]
    assert sorted(p.charge_id for p in credited) == sorted(paid)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(st.lists(ops, min_size=2, max_size=6), max_size=4))
async def test_operations_racing_each_other_keep_the_books_balanced(
    migrated_db: Database, batches: list[list[Op]]
) -> None:
    """Several workers at once: whatever order the database picks, every posting balances,
    balances are their entries' sums, nothing is half-written, each charge is credited once."""
    now = Now()
    ledger = SqlLedger(migrated_db)
    stars = Stars(ledger, packages=(1, 2, 3, 4, 5), refund_days=30, now=now)
    billing = Billing(ledger, policy=QuotaPolicy(Quotas()), now=now)
    telegram = FakeTelegramStars()
    run = uuid.uuid4().hex[:8]

    async def one(op: Op) -> None:
        charge = f"{run}-{op.user}-{op.amount}"
        if op.name == "pay":
            await stars.credit(charge_id=charge, user_id=op.user, stars=op.amount, payload="p")
        elif op.name == "grant":
            await billing.grant(op.user, amount=op.amount * 100, reason="race")
        elif op.name == "sponsor":
            await billing.sponsor(op.user, GROUP, amount=op.amount * 100)
        elif op.name == "refund":
            await stars.refund(charge, telegram)
        elif op.name == "reverse":
            await billing.reverse(op.amount, reason="race")
        else:
            payer = Payer(op.user, GROUP, in_group=True)
            parts = QuotaPolicy(Quotas()).split(payer, Standing(), op.amount * 70)
            posting = Posting(Kind.USAGE, usage_lines(parts), now(), user_id=op.user, chat_id=GROUP)
            await ledger.post(posting)

    for batch in batches:
        results = await asyncio.gather(*(one(op) for op in batch), return_exceptions=True)
        assert not [r for r in results if isinstance(r, BaseException)]
        await _check(migrated_db, ledger, None)
    charges = [p.charge_id for p in await ledger.payments() if p.charge_id.startswith(run)]
    assert len(charges) == len(set(charges))
    for charge in charges:  # credited once: one payment posting per charge
        entries = await ledger.entries(accounts.PAYMENTS, limit=10_000)
        assert sum(1 for e in entries if e.reference == f"charge:{charge}") == 1
