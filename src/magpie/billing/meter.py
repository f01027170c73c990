"""The cost of a turn: admitted (or refused) before the model runs, with a hold on what it may
cost, and charged afterwards from the usage the provider reported.

Holds are kept in this process (a turn runs in one): they stop two turns of one person from
spending the same credit at once, and a crash releases them with the process. Nothing is read
from the database for a model whose price is zero, so a free bot pays nothing for billing.
The charge itself is a ledger posting written with the turn, in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from typing import Protocol

import structlog

from magpie.billing import accounts
from magpie.billing.ledger import Kind, Posting
from magpie.billing.policy import ALLOWED, Decision, Payer, QuotaPolicy, Standing, usage_lines
from magpie.billing.prices import PriceTable, Usage, cost

log = structlog.get_logger(__name__)


class Books(Protocol):
    """What the ledger says about a payer today (storage/ledger.py)."""

    async def standing(self, payer: Payer, *, since: datetime) -> Standing: ...


@dataclass(frozen=True, slots=True)
class Admission:
    """May the turn run; if so, what is held for it until it is charged or released."""

    payer: Payer
    decision: Decision
    standing: Standing | None = None  # None: the model is free, the books were not read
    hold: dict[str, int] = field(default_factory=dict)
    estimate: int = 0

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


def day_start(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: quotas and the free allowance reset then."""
    return datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)


class Meter:
    def __init__(
        self,
        *,
        prices: PriceTable,
        policy: QuotaPolicy,
        books: Books,
        now: Callable[[], datetime],
        expected_output: int = 800,
    ) -> None:
        self.prices = prices
        self.policy = policy
        self.books = books
        self.now = now
        self.expected_output = expected_output
        self._held: Counter[str] = Counter()

    async def admit(self, payer: Payer, *, model: str, prompt_tokens: int) -> Admission:
        price = self.prices.price(model)
        if price.free:
            return Admission(payer, ALLOWED)
        estimate = cost(
            price, Usage(model, tokens_in=prompt_tokens, tokens_out=self.expected_output)
        )
        standing = self._with_holds(
            payer, await self.books.standing(payer, since=day_start(self.now()))
        )
        decision = self.policy.decide(payer, standing, estimate)
        if not decision.allowed:
            log.info("billing.limit_hit", limit=decision.limit, estimate=estimate)
            return Admission(payer, decision, standing, estimate=estimate)
        hold = {
            _hold_key(a, payer): n for a, n in self.policy.split(payer, standing, estimate).items()
        }
        self._held.update(hold)
        return Admission(payer, decision, standing, hold, estimate)

    def charge(self, admission: Admission, usage: Usage) -> Posting | None:
        """The posting for what the turn used (None when it cost nothing)."""
        amount = self.prices.cost(usage)
        if amount <= 0:
            return None
        parts = self.policy.split(admission.payer, admission.standing or Standing(), amount)
        return Posting(
            Kind.USAGE,
            usage_lines(parts),
            self.now(),
            memo=f"{usage.tokens_in} in ({usage.tokens_cached} cached), {usage.tokens_out} out, "
            f"{usage.tool_calls} tool calls",
            user_id=admission.payer.user_id,
            chat_id=admission.payer.chat_id,
            model=usage.model,
        )

    def release(self, admission: Admission) -> None:
        """The turn was charged (or failed): its hold goes."""
        self._held.subtract(admission.hold)
        for account in [a for a, n in self._held.items() if n <= 0]:
            del self._held[account]

    def held(self, account: str) -> int:
        return self._held.get(account, 0)

    def _with_holds(self, payer: Payer, standing: Standing) -> Standing:
        return replace(
            standing,
            held_wallet=self.held(accounts.wallet(payer.user_id)),
            held_pool=self.held(accounts.pool(payer.chat_id)),
            held_free=self.held(_hold_key(accounts.FREE, payer)),
        )


def _hold_key(account: str, payer: Payer) -> str:
    """The free allowance is one account but each person's own: held per person."""
    return f"{account}@{payer.user_id}" if account == accounts.FREE else account


class Unmetered:
    """Nothing is priced: every turn is admitted, none is charged, nothing is read."""

    async def admit(self, payer: Payer, *, model: str, prompt_tokens: int) -> Admission:
        return Admission(payer, ALLOWED)

    def charge(self, admission: Admission, usage: Usage) -> Posting | None:
        return None

    def release(self, admission: Admission) -> None:
        return None
