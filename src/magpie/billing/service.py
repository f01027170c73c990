"""What people and operators ask of the books: balances, recent entries, usage, grants, pools."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog

from magpie.billing import accounts
from magpie.billing.ledger import Entry, Kind, Posting, reversal, transfer
from magpie.billing.meter import day_start
from magpie.billing.policy import Payer, PoolMode, QuotaPolicy, Standing

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ModelUsage:
    model: str
    turns: int
    credits: int


class Books(Protocol):
    """storage/ledger.py SqlLedger."""

    async def post(self, posting: Posting) -> int | None: ...

    async def balance(self, account: str) -> int: ...

    async def entries(self, account: str, *, limit: int = 20) -> list[Entry]: ...

    async def get(self, posting_id: int) -> Posting | None: ...

    async def usage(self, user_id: int, *, since: datetime) -> list[ModelUsage]: ...

    async def standing(self, payer: Payer, *, since: datetime) -> Standing: ...

    async def pool_mode(self, chat_id: int) -> PoolMode: ...

    async def set_pool_mode(self, chat_id: int, mode: PoolMode) -> None: ...


@dataclass(frozen=True, slots=True)
class Account:
    balance: int
    entries: list[Entry]
    free_left_today: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    today: int
    month: int
    by_model: list[ModelUsage]  # this month


@dataclass(frozen=True, slots=True)
class Pool:
    balance: int
    mode: PoolMode


class Billing:
    def __init__(self, books: Books, *, policy: QuotaPolicy, now: Callable[[], datetime]) -> None:
        self.books = books
        self.policy = policy
        self.now = now

    async def account(self, user_id: int, *, limit: int = 10) -> Account:
        wallet = accounts.wallet(user_id)
        standing = await self.books.standing(Payer(user_id, user_id), since=day_start(self.now()))
        return Account(
            balance=standing.wallet,
            entries=await self.books.entries(wallet, limit=limit),
            free_left_today=self.policy.free_left(standing),
        )

    async def usage(self, user_id: int) -> UsageReport:
        now = self.now()
        month_start = datetime(now.year, now.month, 1, tzinfo=UTC)
        month = await self.books.usage(user_id, since=month_start)
        today = await self.books.usage(user_id, since=day_start(now))
        return UsageReport(
            today=sum(m.credits for m in today),
            month=sum(m.credits for m in month),
            by_model=month,
        )

    async def grant(self, user_id: int, *, amount: int, reason: str) -> int:
        """Credit (or, negative, debit) a wallet from the grants account; the posting's id."""
        posting = transfer(
            Kind.GRANT,
            source=accounts.GRANTS,
            target=accounts.wallet(user_id),
            amount=amount,
            at=self.now(),
            memo=reason,
            user_id=user_id,
        )
        posting_id = await self.books.post(posting)
        assert posting_id is not None  # no reference: never a duplicate
        log.info("billing.granted", user_id=user_id, amount=amount)
        return posting_id

    async def reverse(self, posting_id: int, *, reason: str) -> int | None:
        """Undo a posting with its reversal; None if there is no such posting or it was
        already reversed."""
        original = await self.books.get(posting_id)
        if original is None or original.kind is Kind.REVERSAL:
            return None
        return await self.books.post(reversal(original, posting_id, at=self.now(), memo=reason))

    async def sponsor(self, user_id: int, chat_id: int, *, amount: int) -> bool:
        """Move credit from a person's wallet to a group's pool; False if they lack it."""
        if amount <= 0 or await self.books.balance(accounts.wallet(user_id)) < amount:
            return False
        await self.books.post(
            transfer(
                Kind.TRANSFER,
                source=accounts.wallet(user_id),
                target=accounts.pool(chat_id),
                amount=amount,
                at=self.now(),
                memo="sponsored the group",
                user_id=user_id,
                chat_id=chat_id,
            )
        )
        log.info("billing.sponsored", chat_id=chat_id, amount=amount)
        return True

    async def pool(self, chat_id: int) -> Pool:
        return Pool(
            await self.books.balance(accounts.pool(chat_id)), await self.books.pool_mode(chat_id)
        )

    async def set_pool_mode(self, chat_id: int, mode: PoolMode) -> None:
        await self.books.set_pool_mode(chat_id, mode)
