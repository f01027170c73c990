"""Amounts: integer credits, 1,000 to a Telegram Star, so a cheap turn can cost a fraction of one.

Stars are what people pay (Telegram's XTR has no fractions); credits are what the ledger counts
and what turns cost. Nothing is ever a float.
"""

from __future__ import annotations

CREDITS_PER_STAR = 1000


def stars_to_credits(stars: int) -> int:
    return stars * CREDITS_PER_STAR


def whole_stars(credits: int) -> int:
    """The Stars fully covered by `credits` (rounded towards zero)."""
    return int(credits / CREDITS_PER_STAR)


def show(credits: int) -> str:
    """Credits as Stars for people: 12500 → "12.5", 3000 → "3", -250 → "-0.25"."""
    sign = "-" if credits < 0 else ""
    whole, part = divmod(abs(credits), CREDITS_PER_STAR)
    if not part:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{part:03d}".rstrip("0")
