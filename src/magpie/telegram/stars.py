"""The Bot API calls Stars payments need (billing/stars.py's StarsApi port), through aiogram."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import StarTransaction as TelegramTransaction
from aiogram.types import TransactionPartnerUser

from magpie.billing.stars import RefundRefused, StarTransaction


class TelegramStars:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def refund(self, *, user_id: int, charge_id: str) -> None:
        try:
            await self.bot.refund_star_payment(
                user_id=user_id, telegram_payment_charge_id=charge_id
            )
        except (TelegramBadRequest, TelegramForbiddenError) as refused:
            raise RefundRefused(refused.message) from None

    async def transactions(self, *, offset: int, limit: int) -> list[StarTransaction]:
        page = await self.bot.get_star_transactions(offset=offset, limit=limit)
        return [_transaction(t) for t in page.transactions]


def _transaction(t: TelegramTransaction) -> StarTransaction:
    partner = t.source if t.source is not None else t.receiver
    user_id = partner.user.id if isinstance(partner, TransactionPartnerUser) else None
    date = t.date if isinstance(t.date, datetime) else datetime.fromtimestamp(t.date, UTC)
    return StarTransaction(
        id=t.id, amount=t.amount, incoming=t.source is not None, user_id=user_id, date=date
    )
