"""/buy, /balance, /usage, /refund, /sponsor, /pool, and the payment updates: pre-checkout
queries (answered here, at once) and successful and refunded payments. Rules: billing/."""

from __future__ import annotations

import structlog
from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)
from dishka.integrations.aiogram import FromDishka

from magpie.billing.ledger import Entry
from magpie.billing.money import show, stars_to_credits
from magpie.billing.policy import PoolMode
from magpie.billing.service import Billing
from magpie.billing.stars import CURRENCY, RefundResult, Refusal, Stars, invoice_payload
from magpie.config import Settings
from magpie.observability.metrics import Metrics
from magpie.telegram.admins import ChatAdmins
from magpie.telegram.stars import TelegramStars
from magpie.texts import Texts

log = structlog.get_logger(__name__)


def _entry(entry: Entry, texts: Texts) -> str:
    amount = ("+" if entry.amount > 0 else "") + show(entry.amount)
    kind = entry.model if entry.model else entry.memo or entry.kind.value
    return texts.entry_line.format(
        date=entry.at.strftime("%m-%d %H:%M"), kind=f"{entry.kind.value} {kind}", amount=amount
    )


async def balance(message: Message, billing: FromDishka[Billing], texts: FromDishka[Texts]) -> None:
    user_id = message.from_user.id if message.from_user else 0
    account = await billing.account(user_id)
    lines = [
        texts.balance.format(balance=show(account.balance), free=show(account.free_left_today))
    ]
    if account.entries:
        lines += ["", texts.balance_entries, *(_entry(e, texts) for e in account.entries)]
    else:
        lines += ["", texts.balance_no_entries]
    await message.answer("\n".join(lines))


async def usage(message: Message, billing: FromDishka[Billing], texts: FromDishka[Texts]) -> None:
    user_id = message.from_user.id if message.from_user else 0
    report = await billing.usage(user_id)
    lines = [texts.usage.format(today=show(report.today), month=show(report.month))]
    lines += [
        texts.usage_model.format(model=m.model, turns=m.turns, credits=show(m.credits))
        for m in report.by_model
    ] or [texts.usage_none]
    await message.answer("\n".join(lines))


async def buy(message: Message, stars: FromDishka[Stars], texts: FromDishka[Texts]) -> None:
    if message.chat.type != "private":
        await message.answer(texts.buy_private)
        return
    buttons = [
        InlineKeyboardButton(text=texts.buy_button.format(stars=n), callback_data=f"buy:{n}")
        for n in stars.packages
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    await message.answer(texts.buy, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def paysupport(message: Message, stars: FromDishka[Stars], texts: FromDishka[Texts]) -> None:
    """Telegram asks bots that take payments to answer /paysupport."""
    await message.answer(texts.paysupport.format(days=stars.refund_days))


async def buy_package(
    query: CallbackQuery, bot: Bot, stars: FromDishka[Stars], texts: FromDishka[Texts]
) -> None:
    data = (query.data or "").removeprefix("buy:")
    if not data.isdigit() or int(data) not in stars.packages:
        await query.answer(texts.expired)
        return
    amount = int(data)
    await bot.send_invoice(
        chat_id=query.from_user.id,
        title=texts.invoice_title.format(stars=amount),
        description=texts.invoice_description.format(stars=amount),
        payload=invoice_payload(query.from_user.id, amount),
        currency=CURRENCY,
        prices=[LabeledPrice(label=texts.invoice_title.format(stars=amount), amount=amount)],
    )
    await query.answer()


async def pre_checkout(
    query: PreCheckoutQuery, stars: FromDishka[Stars], texts: FromDishka[Texts]
) -> None:
    """Answered in this handler, from the invoice alone (no database): well within 10 s."""
    error = stars.checkout_error(
        user_id=query.from_user.id,
        currency=query.currency,
        total_amount=query.total_amount,
        payload=query.invoice_payload,
    )
    if error is None:
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=texts.checkout_declined.format(reason=error))


async def successful_payment(
    message: Message,
    stars: FromDishka[Stars],
    billing: FromDishka[Billing],
    texts: FromDishka[Texts],
    metrics: FromDishka[Metrics],
) -> None:
    paid = message.successful_payment
    assert paid is not None and message.from_user is not None
    if paid.currency != CURRENCY:  # Magpie only ever invoices in Stars
        log.warning("billing.payment_not_stars", currency=paid.currency)
        return
    credited = await stars.credit(
        charge_id=paid.telegram_payment_charge_id,
        user_id=message.from_user.id,
        stars=paid.total_amount,
        payload=paid.invoice_payload,
    )
    metrics.payments.labels("credited" if credited else "duplicate").inc()
    if credited:
        account = await billing.account(message.from_user.id, limit=0)
        await message.answer(
            texts.paid.format(
                stars=paid.total_amount,
                balance=show(account.balance),
                charge_id=paid.telegram_payment_charge_id,
            )
        )


async def refunded_payment(
    message: Message,
    stars: FromDishka[Stars],
    billing: FromDishka[Billing],
    texts: FromDishka[Texts],
) -> None:
    refunded = message.refunded_payment
    assert refunded is not None
    if await stars.refunded(refunded.telegram_payment_charge_id) and message.from_user:
        account = await billing.account(message.from_user.id, limit=0)
        await message.answer(
            texts.refunded_notice.format(stars=refunded.total_amount, balance=show(account.balance))
        )


def refund_text(result: RefundResult, texts: Texts, *, days: int, balance: int = 0) -> str:
    payment = result.payment
    if result.refunded and payment is not None:
        return texts.refund_done.format(stars=payment.stars, user_id=payment.user_id)
    return {
        Refusal.UNKNOWN: texts.refund_refused_unknown,
        Refusal.ALREADY: texts.refund_refused_already,
        Refusal.TOO_OLD: texts.refund_refused_too_old.format(days=days),
        Refusal.SPENT: texts.refund_refused_spent.format(balance=show(balance)),
        Refusal.TELEGRAM: texts.refund_refused_telegram.format(reason=result.reason),
        None: texts.refund_refused_unknown,
    }[result.refusal]


async def refund(
    message: Message,
    command: CommandObject,
    bot: Bot,
    stars: FromDishka[Stars],
    billing: FromDishka[Billing],
    settings: FromDishka[Settings],
    texts: FromDishka[Texts],
    metrics: FromDishka[Metrics],
) -> None:
    user_id = message.from_user.id if message.from_user else 0
    if user_id not in settings.bot_admins:
        await message.answer(texts.refund_admins_only)
        return
    charge_id = (command.args or "").strip()
    if not charge_id:
        await message.answer(texts.refund_usage)
        return
    result = await stars.refund(charge_id, TelegramStars(bot))
    metrics.payments.labels("refunded" if result.refunded else "refused").inc()
    balance = 0
    if result.refusal is Refusal.SPENT and result.payment is not None:
        balance = (await billing.account(result.payment.user_id, limit=0)).balance
    await message.answer(refund_text(result, texts, days=stars.refund_days, balance=balance))


async def sponsor(
    message: Message,
    command: CommandObject,
    billing: FromDishka[Billing],
    admins: FromDishka[ChatAdmins],
    texts: FromDishka[Texts],
) -> None:
    """/sponsor N: a group admin moves N Stars of their own credit into the group's pool."""
    if message.chat.type == "private":
        await message.answer(texts.pool_groups_only)
        return
    user_id = message.from_user.id if message.from_user else 0
    if not await admins.is_admin(message.chat.id, user_id, fresh=True):
        await message.answer(texts.sponsor_admins_only)
        return
    args = (command.args or "").strip()
    if not args.isdigit() or int(args) < 1:
        await message.answer(texts.sponsor_usage)
        return
    if not await billing.sponsor(user_id, message.chat.id, amount=stars_to_credits(int(args))):
        account = await billing.account(user_id, limit=0)
        await message.answer(texts.sponsor_short.format(balance=show(account.balance)))
        return
    pool = await billing.pool(message.chat.id)
    await message.answer(texts.sponsored.format(stars=int(args), balance=show(pool.balance)))


def _mode(mode: PoolMode, texts: Texts) -> str:
    return str(getattr(texts, f"pool_mode_{mode.value}"))


async def pool(
    message: Message,
    command: CommandObject,
    billing: FromDishka[Billing],
    admins: FromDishka[ChatAdmins],
    texts: FromDishka[Texts],
) -> None:
    """/pool shows the group's pool; /pool pool_only or /pool pool_then_wallet (admins)."""
    if message.chat.type == "private":
        await message.answer(texts.pool_groups_only)
        return
    wanted = (command.args or "").strip()
    if wanted in {m.value for m in PoolMode}:
        user_id = message.from_user.id if message.from_user else 0
        if not await admins.is_admin(message.chat.id, user_id, fresh=True):
            await message.answer(texts.pool_admins_only)
            return
        await billing.set_pool_mode(message.chat.id, PoolMode(wanted))
        await message.answer(texts.pool_set.format(mode=_mode(PoolMode(wanted), texts)))
        return
    current = await billing.pool(message.chat.id)
    await message.answer(
        texts.pool.format(balance=show(current.balance), mode=_mode(current.mode, texts))
    )


def router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    payments = Router(name=__name__)
    payments.pre_checkout_query.register(pre_checkout)
    payments.message.register(successful_payment, F.successful_payment)
    payments.message.register(refunded_payment, F.refunded_payment)
    payments.message.register(balance, Command("balance"))
    payments.message.register(usage, Command("usage"))
    payments.message.register(buy, Command("buy"))
    payments.message.register(refund, Command("refund"))
    payments.message.register(paysupport, Command("paysupport"))
    payments.message.register(sponsor, Command("sponsor"))
    payments.message.register(pool, Command("pool"))
    payments.callback_query.register(buy_package, F.data.startswith("buy:"))
    return payments
