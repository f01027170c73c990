"""Telegram Stars: packages to buy, the pre-checkout check, crediting a payment exactly once,
refunds Telegram agrees to first, and reconciliation against Telegram's transaction list.

The rules live here; telegram/ only parses updates and renders replies, and talks to the Bot
API through the small `StarsApi` port.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

import structlog

from magpie.billing import accounts
from magpie.billing.ledger import Kind, Posting, transfer
from magpie.billing.money import stars_to_credits

log = structlog.get_logger(__name__)
CURRENCY = "XTR"


@dataclass(frozen=True, slots=True)
class StarPayment:
    charge_id: str  # telegram_payment_charge_id
    user_id: int
    stars: int
    payload: str
    paid_at: datetime
    refunded: bool = False


@dataclass(frozen=True, slots=True)
class StarTransaction:
    """One row of getStarTransactions: `incoming` for a payment, not for a refund."""

    id: str
    amount: int
    incoming: bool
    user_id: int | None
    date: datetime


class RefundRefused(Exception):
    """Telegram said no to refundStarPayment; `reason` is its description."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StarsApi(Protocol):
    """The Bot API calls payments need (telegram/stars.py)."""

    async def refund(self, *, user_id: int, charge_id: str) -> None:
        """refundStarPayment; raises RefundRefused when Telegram refuses."""
        ...

    async def transactions(self, *, offset: int, limit: int) -> list[StarTransaction]: ...


class PaymentBook(Protocol):
    """What payments need from the ledger (storage/ledger.py)."""

    async def record_payment(self, payment: StarPayment, posting: Posting) -> bool: ...

    async def payment(self, charge_id: str) -> StarPayment | None: ...

    async def payments(self) -> list[StarPayment]: ...

    async def post(self, posting: Posting) -> int | None: ...

    async def balance(self, account: str) -> int: ...


def invoice_payload(user_id: int, stars: int) -> str:
    return f"stars:{user_id}:{stars}"


def read_payload(payload: str) -> tuple[int, int] | None:
    """(user id, stars) from an invoice payload, or None if it is not one of ours."""
    kind, _, rest = payload.partition(":")
    user, _, stars = rest.partition(":")
    if kind != "stars" or not user.lstrip("-").isdigit() or not stars.isdigit():
        return None
    return int(user), int(stars)


class Refusal(StrEnum):
    """Why a refund was not made."""

    UNKNOWN = "unknown"
    ALREADY = "already"
    TOO_OLD = "too_old"
    SPENT = "spent"
    TELEGRAM = "telegram"


@dataclass(frozen=True, slots=True)
class RefundResult:
    refunded: bool
    refusal: Refusal | None = None
    reason: str = ""  # Telegram's words when it refused
    payment: StarPayment | None = None


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Differences between our books and Telegram's list; nothing is changed by finding them."""

    checked: int
    missing: list[StarPayment] = field(default_factory=list)  # ours, Telegram has no such
    unknown: list[StarTransaction] = field(default_factory=list)  # Telegram's, we have none
    mismatched: list[tuple[StarPayment, StarTransaction]] = field(default_factory=list)
    refunds_unmatched: list[str] = field(default_factory=list)  # "user 5: 100 Stars"

    @property
    def clean(self) -> bool:
        return not (self.missing or self.unknown or self.mismatched or self.refunds_unmatched)


class Stars:
    def __init__(
        self,
        book: PaymentBook,
        *,
        packages: tuple[int, ...],
        refund_days: int,
        now: Callable[[], datetime],
    ) -> None:
        self.book = book
        self.packages = packages
        self.refund_days = refund_days
        self.now = now

    def checkout_error(
        self, *, user_id: int, currency: str, total_amount: int, payload: str
    ) -> str | None:
        """Why a pre-checkout query must be declined (None: it may go ahead). No I/O, so the
        answer is always well within Telegram's 10 seconds."""
        read = read_payload(payload)
        if currency != CURRENCY or read is None:
            return "unknown invoice"
        buyer, stars = read
        if buyer != user_id:
            return "this invoice is someone else's"
        if stars not in self.packages or stars != total_amount:
            return "this package is no longer offered"
        return None

    async def credit(self, *, charge_id: str, user_id: int, stars: int, payload: str) -> bool:
        """Credit a successful payment once per charge id; False if it already was."""
        now = self.now()
        payment = StarPayment(charge_id, user_id, stars, payload, now)
        posting = transfer(
            Kind.PAYMENT,
            source=accounts.PAYMENTS,
            target=accounts.wallet(user_id),
            amount=stars_to_credits(stars),
            at=now,
            memo=f"{stars} Stars",
            user_id=user_id,
            reference=f"charge:{charge_id}",
        )
        credited = await self.book.record_payment(payment, posting)
        log.info(
            "billing.payment_credited" if credited else "billing.payment_duplicate",
            charge_id=charge_id,
            stars=stars,
        )
        return credited

    async def refund(self, charge_id: str, api: StarsApi) -> RefundResult:
        """Refund a payment: the policy first, then Telegram; the reversal is recorded only
        once Telegram agreed. A refusal (ours or Telegram's) changes nothing."""
        payment = await self.book.payment(charge_id)
        refusal = await self._refusal(payment)
        if refusal is not None or payment is None:
            log.info("billing.refund_refused", charge_id=charge_id, refusal=refusal)
            return RefundResult(False, refusal, payment=payment)
        try:
            await api.refund(user_id=payment.user_id, charge_id=charge_id)
        except RefundRefused as refused:
            log.warning("billing.refund_refused", charge_id=charge_id, reason=refused.reason)
            return RefundResult(False, Refusal.TELEGRAM, refused.reason, payment)
        await self.record_refund(payment)
        return RefundResult(True, payment=payment)

    async def refunded(self, charge_id: str) -> bool:
        """Telegram says this charge was refunded (a refunded_payment update): record it if it
        is not yet (a refund made elsewhere, or a crash right after Telegram agreed)."""
        payment = await self.book.payment(charge_id)
        if payment is None:
            log.warning("billing.refund_unknown_charge", charge_id=charge_id)
            return False
        return await self.record_refund(payment)

    async def record_refund(self, payment: StarPayment) -> bool:
        posting = transfer(
            Kind.REFUND,
            source=accounts.wallet(payment.user_id),
            target=accounts.REFUNDS,
            amount=stars_to_credits(payment.stars),
            at=self.now(),
            memo=f"{payment.stars} Stars refunded",
            user_id=payment.user_id,
            reference=f"refund:{payment.charge_id}",
        )
        recorded = await self.book.post(posting) is not None
        if recorded:
            log.info("billing.refunded", charge_id=payment.charge_id, stars=payment.stars)
        return recorded

    async def _refusal(self, payment: StarPayment | None) -> Refusal | None:
        if payment is None:
            return Refusal.UNKNOWN
        if payment.refunded:
            return Refusal.ALREADY
        if self.now() - payment.paid_at > timedelta(days=self.refund_days):
            return Refusal.TOO_OLD
        balance = await self.book.balance(accounts.wallet(payment.user_id))
        if balance < stars_to_credits(payment.stars):
            return Refusal.SPENT
        return None

    async def reconcile(self, api: StarsApi, *, page: int = 100) -> Reconciliation:
        """Page through getStarTransactions and compare with the recorded payments."""
        theirs: list[StarTransaction] = []
        offset = 0
        while True:
            batch = await api.transactions(offset=offset, limit=page)
            theirs.extend(batch)
            offset += len(batch)
            if len(batch) < page:
                break
        ours = {p.charge_id: p for p in await self.book.payments()}
        incoming = {t.id: t for t in theirs if t.incoming}
        report = Reconciliation(checked=len(theirs))
        for charge_id, payment in ours.items():
            seen = incoming.get(charge_id)
            if seen is None:
                report.missing.append(payment)
            elif seen.amount != payment.stars or seen.user_id != payment.user_id:
                report.mismatched.append((payment, seen))
        report.unknown.extend(t for t in incoming.values() if t.id not in ours)
        recorded: Counter[tuple[int | None, int]] = Counter(
            (p.user_id, p.stars) for p in ours.values() if p.refunded
        )
        paid_back = Counter((t.user_id, t.amount) for t in theirs if not t.incoming)
        for (user, stars), n in ((recorded - paid_back) + (paid_back - recorded)).items():
            report.refunds_unmatched.extend([f"user {user}: {stars} Stars"] * n)
        if not report.clean:
            log.warning(
                "billing.reconcile_differences",
                missing=len(report.missing),
                unknown=len(report.unknown),
                mismatched=len(report.mismatched),
                refunds_unmatched=len(report.refunds_unmatched),
            )
        return report
