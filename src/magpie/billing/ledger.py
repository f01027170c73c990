"""Double-entry postings and the Ledger port: append-only, every posting balanced.

A posting is a set of lines (account, signed credits) that sum to zero. Nothing is ever
updated or deleted: a correction is another posting, the reversal, whose lines negate the
original's. `reference` makes a posting idempotent (a payment's charge id, a refund's): posting
it a second time does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from magpie.billing.accounts import is_known


class Kind(StrEnum):
    PAYMENT = "payment"  # Stars paid in (successful_payment)
    REFUND = "refund"  # Stars paid back (refundStarPayment agreed)
    GRANT = "grant"  # credit an operator gave
    USAGE = "usage"  # what a turn cost
    TRANSFER = "transfer"  # wallet to group pool (a sponsor)
    REVERSAL = "reversal"  # undoes another posting


class Unbalanced(ValueError):
    """A posting whose lines do not sum to zero, or that names an unknown account."""


@dataclass(frozen=True, slots=True)
class Line:
    account: str
    amount: int  # credits, signed


@dataclass(frozen=True, slots=True)
class Posting:
    """One balanced transaction; `user_id`/`chat_id` say whose (for views and quotas)."""

    kind: Kind
    lines: tuple[Line, ...]
    at: datetime
    memo: str = ""
    user_id: int | None = None
    chat_id: int | None = None
    model: str | None = None
    reference: str | None = None  # unique: the same reference is posted once
    reverses: int | None = None  # the posting this one reverses (once only)

    def __post_init__(self) -> None:
        if not self.lines:
            raise Unbalanced("a posting needs lines")
        if sum(line.amount for line in self.lines) != 0:
            raise Unbalanced(f"lines sum to {sum(line.amount for line in self.lines)}, not 0")
        for line in self.lines:
            if not is_known(line.account):
                raise Unbalanced(f"unknown account {line.account!r}")

    def amount_for(self, account: str) -> int:
        return sum(line.amount for line in self.lines if line.account == account)


def transfer(
    kind: Kind,
    *,
    source: str,
    target: str,
    amount: int,
    at: datetime,
    memo: str = "",
    user_id: int | None = None,
    chat_id: int | None = None,
    model: str | None = None,
    reference: str | None = None,
) -> Posting:
    """`amount` credits from `source` to `target`, as one two-line posting."""
    lines = (Line(source, -amount), Line(target, amount))
    return Posting(
        kind,
        lines,
        at,
        memo=memo,
        user_id=user_id,
        chat_id=chat_id,
        model=model,
        reference=reference,
    )


def reversal(original: Posting, original_id: int, *, at: datetime, memo: str) -> Posting:
    """The posting that undoes `original`: every line negated."""
    return Posting(
        Kind.REVERSAL,
        tuple(Line(line.account, -line.amount) for line in original.lines),
        at,
        memo=memo,
        user_id=original.user_id,
        chat_id=original.chat_id,
        reverses=original_id,
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """A stored posting's line for one account, as views show it (newest first)."""

    posting_id: int
    kind: Kind
    amount: int
    at: datetime
    memo: str = ""
    model: str | None = None
    reference: str | None = None
    reverses: int | None = None


class Ledger(Protocol):
    """Where postings are kept (storage/ledger.py; billing/memory.py for tests)."""

    async def post(self, posting: Posting) -> int | None:
        """Append one posting in its own transaction; its id, or None when its `reference`
        (or the posting it reverses) was already posted."""
        ...

    async def balance(self, account: str) -> int: ...

    async def entries(self, account: str, *, limit: int = 20) -> list[Entry]:
        """The account's lines, newest first."""
        ...

    async def get(self, posting_id: int) -> Posting | None: ...
