"""The ledger's accounts, named by strings so any number of wallets and pools need no setup.

Signs: every posting's amounts sum to zero. A wallet or pool holds credit when positive. The
bot's own accounts mirror them: `payments` goes negative by what people paid in, `grants` by
what operators gave, `free` by the free allowance used, `refunds` positive by what was paid
back, `revenue` positive by what turns cost.
"""

from __future__ import annotations

PAYMENTS = "payments"  # Stars received from Telegram
REFUNDS = "refunds"  # Stars paid back through Telegram
GRANTS = "grants"  # credit operators gave
FREE = "free"  # the free daily allowance, as used
REVENUE = "revenue"  # what turns cost
SYSTEM = frozenset({PAYMENTS, REFUNDS, GRANTS, FREE, REVENUE})


def wallet(user_id: int) -> str:
    return f"wallet:{user_id}"


def pool(chat_id: int) -> str:
    return f"pool:{chat_id}"


def is_known(account: str) -> bool:
    kind, _, number = account.partition(":")
    if not number:
        return account in SYSTEM
    return kind in ("wallet", "pool") and number.lstrip("-").isdigit()
