"""Who may start a turn and who pays for it: the quota rules, in one place, with no I/O.

- Bot admins are exempt: never refused; what they use is booked to `free`.
- Caps: a person's spending per UTC day, and a group's (0: no cap).
- A turn starts only when what it may cost (the estimate) is covered, by (in a group with a
  sponsor pool) the pool, then the person's free allowance for today, then their wallet; a
  group set to `pool_only` never draws on members' own credit.
- The actual cost is split the same way; what nothing covers comes out of the wallet (it can
  dip below zero by the difference between the estimate and the real cost, never more).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from magpie.billing import accounts
from magpie.billing.ledger import Line


class PoolMode(StrEnum):
    POOL_THEN_WALLET = "pool_then_wallet"  # the group's pool first, then the member's own
    POOL_ONLY = "pool_only"  # only the pool (and the free allowance): members never pay


class Limit(StrEnum):
    """Why a turn was refused."""

    USER_CAP = "user_cap"
    GROUP_CAP = "group_cap"
    NO_CREDIT = "no_credit"


@dataclass(frozen=True, slots=True)
class Payer:
    """Who a turn is for, and where."""

    user_id: int
    chat_id: int
    in_group: bool = False
    exempt: bool = False  # a bot admin


@dataclass(frozen=True, slots=True)
class Standing:
    """What the books say right now about a payer (and their group), less what is held."""

    wallet: int = 0
    pool: int = 0
    spent_today: int = 0  # the person's usage today, whoever paid
    free_used_today: int = 0
    group_spent_today: int = 0
    pool_mode: PoolMode = PoolMode.POOL_THEN_WALLET
    held_wallet: int = 0
    held_pool: int = 0
    held_free: int = 0


@dataclass(frozen=True, slots=True)
class Quotas:
    free_daily: int = 0  # credits per person per UTC day
    user_daily_cap: int = 0  # 0: none
    group_daily_cap: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: Limit | None = None


ALLOWED = Decision(True)


class QuotaPolicy:
    def __init__(self, quotas: Quotas) -> None:
        self.quotas = quotas

    def decide(self, payer: Payer, standing: Standing, estimate: int) -> Decision:
        if payer.exempt:
            return ALLOWED
        q = self.quotas
        if q.user_daily_cap and standing.spent_today + estimate > q.user_daily_cap:
            return Decision(False, Limit.USER_CAP)
        group_over = standing.group_spent_today + estimate > q.group_daily_cap
        if payer.in_group and q.group_daily_cap and group_over:
            return Decision(False, Limit.GROUP_CAP)
        if sum(self._available(payer, standing)) < estimate:
            return Decision(False, Limit.NO_CREDIT)
        return ALLOWED

    def free_left(self, standing: Standing) -> int:
        return max(self.quotas.free_daily - standing.free_used_today - standing.held_free, 0)

    def _available(self, payer: Payer, standing: Standing) -> tuple[int, int, int]:
        """(pool, free, wallet) this payer may draw on now."""
        pool = max(standing.pool - standing.held_pool, 0) if payer.in_group else 0
        wallet = max(standing.wallet - standing.held_wallet, 0)
        if payer.in_group and standing.pool_mode is PoolMode.POOL_ONLY:
            wallet = 0
        return pool, self.free_left(standing), wallet

    def split(self, payer: Payer, standing: Standing, amount: int) -> dict[str, int]:
        """How `amount` credits are paid: {account: credits}, in draw order, summing to it."""
        if amount <= 0:
            return {}
        if payer.exempt:
            return {accounts.FREE: amount}
        pool, free, wallet = self._available(payer, standing)
        parts: dict[str, int] = {}
        left = amount
        for account, available in (
            (accounts.pool(payer.chat_id), pool),
            (accounts.FREE, free),
            (accounts.wallet(payer.user_id), wallet),
        ):
            take = min(available, left)
            if take > 0:
                parts[account] = take
                left -= take
        if left:  # the estimate was low: the rest is the person's (or the pool's, if pool_only)
            account = (
                accounts.pool(payer.chat_id)
                if payer.in_group and standing.pool_mode is PoolMode.POOL_ONLY
                else accounts.wallet(payer.user_id)
            )
            parts[account] = parts.get(account, 0) + left
        return parts


def usage_lines(parts: dict[str, int]) -> tuple[Line, ...]:
    """The posting lines for a split: each source pays, revenue receives the total."""
    total = sum(parts.values())
    return (
        *(Line(account, -amount) for account, amount in parts.items()),
        Line(accounts.REVENUE, total),
    )
