"""Telegram Stars payments: invoices, pre-checkout answers, refunds, the transaction list."""

from __future__ import annotations

import json
import secrets
from typing import Any

from tg_sandbox.errors import bad_request, required
from tg_sandbox.methods.call import Call
from tg_sandbox.methods.common import send
from tg_sandbox.model import Invoice
from tg_sandbox.render import user_json

PRE_CHECKOUT_SECONDS = 10.0
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
KNOWN_CURRENCIES = frozenset({"XTR", "USD", "EUR", "GBP", "UAH", "RUB", "INR", "BRL", "JPY"})


def _invoice(call: Call, chat_id: int) -> Invoice:
    """Validate invoice parameters the way Telegram does for Stars (XTR)."""
    params = call.params
    title = params.get("title") or ""
    description = params.get("description") or ""
    payload = params.get("payload") or ""
    currency = params.get("currency")
    if not title:
        raise required("title")
    if not description:
        raise required("description")
    if not payload:
        raise required("payload")
    if currency is None:
        raise required("currency")
    if len(title) > 32:
        raise bad_request("INVOICE_TITLE_INVALID")
    if len(description) > 255:
        raise bad_request("INVOICE_DESCRIPTION_INVALID")
    if len(payload.encode()) > 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    prices = params.json("prices", "can't parse prices JSON object")
    if prices is None:
        raise required("prices")
    if not isinstance(prices, list):
        raise bad_request("can't parse prices JSON object")
    if not prices:
        raise bad_request("there must be at least one price")
    if currency not in KNOWN_CURRENCIES:
        raise bad_request("CURRENCY_INVALID")
    provider_token = params.get("provider_token") or ""
    if currency != "XTR":
        if not provider_token:
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        raise bad_request("PAYMENT_PROVIDER_INVALID")  # the sandbox takes Stars only
    if provider_token or len(prices) != 1 or params.integer("max_tip_amount"):
        raise bad_request("STARS_INVOICE_INVALID")
    price = prices[0]
    if not isinstance(price, dict) or not isinstance(price.get("amount"), int):
        raise bad_request("can't parse prices JSON object")
    amount = int(price["amount"])
    if not 1 <= amount <= 100_000:
        raise bad_request("STARS_INVOICE_INVALID")
    return Invoice(chat_id, None, title, description, payload, currency, amount)


async def send_invoice(call: Call) -> dict[str, Any]:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    invoice = _invoice(call, chat.id)
    content = {
        "invoice": {
            "title": invoice.title,
            "description": invoice.description,
            "start_parameter": call.params.get("start_parameter") or "",
            "currency": invoice.currency,
            "total_amount": invoice.total_amount,
        }
    }
    if not call.params.has("reply_markup"):
        pay = {"text": f"Pay ⭐️{invoice.total_amount}", "pay": True}
        call.params.values["reply_markup"] = (
            f'{{"inline_keyboard": [[{json.dumps(pay, ensure_ascii=False)}]]}}'
        )
    message = send(call, chat, content)
    invoice.message_id = message["message_id"]
    call.world.invoices[(chat.id, invoice.message_id)] = invoice
    return message


async def create_invoice_link(call: Call) -> str:
    invoice = _invoice(call, 0)
    slug = secrets.token_urlsafe(12)
    call.world.invoice_links[slug] = invoice
    return f"https://t.me/${slug}"


async def answer_pre_checkout_query(call: Call) -> bool:
    world = call.world
    query_id = call.params.text("pre_checkout_query_id")
    ok = call.params.flag("ok")
    error_message = call.params.get("error_message")
    if not ok and not error_message:
        raise required("error_message")
    pending = world.checkouts.get(query_id)
    if (
        pending is None
        or pending.answer is not None
        or world.clock.now() - pending.created_at > PRE_CHECKOUT_SECONDS
    ):
        raise bad_request(QUERY_TOO_OLD)
    pending.answer = ok
    pending.error_message = error_message
    world.checkout_answered(query_id)
    return True


async def refund_star_payment(call: Call) -> bool:
    world = call.world
    user_id = call.params.integer("user_id")
    user = world.users.get(user_id)
    if user is None or user.is_bot:
        raise bad_request("invalid user_id specified")
    charge_id = call.params.text("telegram_payment_charge_id")
    charge = world.charges.get(charge_id)
    if charge is None or charge.user_id != user_id:
        raise bad_request("CHARGE_NOT_FOUND")
    if charge.refunded:
        raise bad_request("CHARGE_ALREADY_REFUNDED")
    charge.refunded = True
    charge.refunded_at = world.now()
    chat = world.private_chat(call.bot, user)
    refunded = {
        "currency": "XTR",
        "total_amount": charge.amount,
        "invoice_payload": charge.payload,
        "telegram_payment_charge_id": charge.charge_id,
    }
    world.post(chat, user, {"refunded_payment": refunded})
    return True


async def get_star_transactions(call: Call) -> dict[str, Any]:
    world = call.world
    offset = call.params.integer("offset", 0, lo=0)
    limit = call.params.integer("limit", 100, lo=1, hi=100)
    rows: list[tuple[int, dict[str, Any]]] = []
    for charge in world.charges.values():
        if charge.bot_id != call.bot.id:
            continue
        partner = {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": user_json(world.users[charge.user_id]),
            "invoice_payload": charge.payload,
        }
        rows.append(
            (
                charge.date,
                {
                    "id": charge.charge_id,
                    "amount": charge.amount,
                    "date": charge.date,
                    "source": partner,
                },
            )
        )
        if charge.refunded_at is not None:
            rows.append(
                (
                    charge.refunded_at,
                    {
                        "id": f"{charge.charge_id}:refund",
                        "amount": charge.amount,
                        "date": charge.refunded_at,
                        "receiver": partner,
                    },
                )
            )
    rows.sort(key=lambda row: row[0])
    return {"transactions": [row for _, row in rows[offset : offset + limit]]}
