"""What simulated people do: write, reply, edit, forward, press buttons, pay, stop drafts, block."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from tg_sandbox import formatting
from tg_sandbox.bots import BotAccount
from tg_sandbox.model import Charge, Chat, Invoice, Message, PendingCheckout, User
from tg_sandbox.render import chat_json, media_fields, message_json, user_json
from tg_sandbox.world import World

PRE_CHECKOUT_SECONDS = 10.0


class HasMessageId(Protocol):
    """A sandbox message, or a client library's message object."""

    @property
    def message_id(self) -> int: ...


class ActionRefused(Exception):
    """The simulated person cannot do this (not a member, no such message, ...)."""


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """How a payment attempt ended: paid (with charge id) or declined (with the bot's reason)."""

    paid: bool
    charge_id: str | None = None
    error_message: str | None = None


class People:
    """Actions of simulated users, turned into messages and updates for bots."""

    def __init__(self, world: World) -> None:
        self.world = world

    def chat_with(self, user: User, where: BotAccount | Chat) -> Chat:
        """The chat a user writes in: a private chat with a bot, or a group they belong to."""
        if isinstance(where, BotAccount):
            if where.id in user.blocked_bots:
                user.blocked_bots.discard(where.id)  # writing to a blocked bot unblocks it
            user.started_bots.add(where.id)
            return self.world.private_chat(where, user)
        if where.member(user.id) is None:
            raise ActionRefused(f"{user.first_name} is not a member of {where.title}")
        return where

    def send_text(
        self,
        user: User,
        where: BotAccount | Chat,
        text: str,
        *,
        reply_to: HasMessageId | int | None = None,
        topic: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> Message:
        chat = self.chat_with(user, where)
        content: dict[str, Any] = {"text": text}
        found = entities if entities is not None else formatting.find_auto_entities(text)
        if found:
            content["entities"] = found
        return self._post(user, chat, content, reply_to=reply_to, topic=topic)

    def send_media(
        self,
        user: User,
        where: BotAccount | Chat,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        reply_to: HasMessageId | int | None = None,
        topic: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Message:
        """A photo, voice note, document, audio, video or sticker from a person."""
        chat = self.chat_with(user, where)
        stored = self.world.store_file(data, kind=kind, file_name=file_name, mime_type=mime_type)
        if kind == "sticker":
            fields: Any = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            } | (extra or {})
        else:
            fields = media_fields(kind, stored, extra or {})
        content: dict[str, Any] = {kind: fields}
        if caption:
            content["caption"] = caption
            found = formatting.find_auto_entities(caption)
            if found:
                content["caption_entities"] = found
        return self._post(user, chat, content, reply_to=reply_to, topic=topic)

    def edit_text(self, user: User, message: Message, text: str) -> Message:
        if message.sender_id != user.id or "text" not in message.content:
            raise ActionRefused("only the author can edit a text message")
        message.content.pop("entities", None)
        message.content["text"] = text
        found = formatting.find_auto_entities(text)
        if found:
            message.content["entities"] = found
        message.edit_date = self.world.now()
        self.world.announce(message.chat, message, "edited_message")
        return message

    def forward(self, user: User, message: Message, where: BotAccount | Chat) -> Message:
        chat = self.chat_with(user, where)
        origin = message.forward_origin
        if origin is None:
            sender = self.world.users.get(message.sender_id or 0)
            origin = (
                {"type": "user", "date": message.date, "sender_user": user_json(sender)}
                if sender is not None
                else {"type": "hidden_user", "date": message.date, "sender_user_name": "Unknown"}
            )
        forwarded = self.world.post(chat, user, dict(message.content), forward_origin=origin)
        return forwarded

    def press_button(self, user: User, message: Message, data: str) -> str:
        """Press an inline button; the bot gets a callback_query. Returns the query id."""
        markup = message.reply_markup or {}
        buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
        if not any(b.get("callback_data") == data for b in buttons):
            raise ActionRefused("the message has no button with that callback data")
        bot = self.world.bot_by_id(message.sender_id or 0)
        if bot is None:
            raise ActionRefused("inline buttons belong to bots")
        query_id = self.world.new_query_id()
        self.world.callback_queries[query_id] = (bot.id, self.world.clock.now())
        query = {
            "id": query_id,
            "from": user_json(user),
            "message": message_json(self.world.users, message),
            "chat_instance": str(abs(hash((message.chat_id, bot.id))) % 10**18),
            "data": data,
        }
        self.world.push_update(bot, "callback_query", query, chat_key=message.chat_id)
        return query_id

    def press_stop(self, user: User, bot: BotAccount, draft_id: int | None = None) -> int:
        """Press the stop button on a streaming draft; the bot gets stopped_message_generation."""
        drafts = [
            d
            for d in self.world.live_drafts(bot)
            if d.chat_id == user.id and d.can_stop and draft_id in (None, d.draft_id)
        ]
        if not drafts:
            raise ActionRefused("there is no draft with a stop button")
        draft = max(drafts, key=lambda d: d.updated_at)
        chat = self.world.private_chat(bot, user)
        payload: dict[str, Any] = {"chat": chat_json(chat), "draft_id": draft.draft_id}
        if draft.thread_id is not None:
            payload["message_thread_id"] = draft.thread_id
        if not draft.keep_on_stop:
            bot.drafts.pop((draft.chat_id, draft.draft_id), None)
        self.world.push_update(bot, "stopped_message_generation", payload, chat_key=chat.id)
        return draft.draft_id

    def block(self, user: User, bot: BotAccount, *, blocked: bool = True) -> None:
        if blocked:
            user.blocked_bots.add(bot.id)
        else:
            user.blocked_bots.discard(bot.id)
        chat = self.world.private_chat(bot, user)
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        change = {
            "chat": chat_json(chat),
            "from": user_json(user),
            "date": self.world.now(),
            "old_chat_member": {"status": old, "user": user_json(bot.user)}
            | ({"until_date": 0} if old == "kicked" else {}),
            "new_chat_member": {"status": new, "user": user_json(bot.user)}
            | ({"until_date": 0} if new == "kicked" else {}),
        }
        self.world.push_update(bot, "my_chat_member", change, chat_key=chat.id)

    async def pay(
        self, user: User, invoice_message: Message, *, wait: float = PRE_CHECKOUT_SECONDS
    ) -> PaymentOutcome:
        """Pay an invoice: pre-checkout query, the bot's answer within 10 s, then the receipt."""
        invoice = self.world.invoices.get((invoice_message.chat_id, invoice_message.message_id))
        if invoice is None:
            raise ActionRefused("that message is not an invoice")
        bot = self.world.bot_by_id(invoice_message.sender_id or 0)
        if bot is None:
            raise ActionRefused("invoices come from bots")
        return await self._checkout(user, bot, invoice, wait=wait)

    async def pay_link(
        self, user: User, bot: BotAccount, link: str, *, wait: float = PRE_CHECKOUT_SECONDS
    ) -> PaymentOutcome:
        invoice = self.world.invoice_links.get(link.rsplit("$", 1)[-1])
        if invoice is None:
            raise ActionRefused("unknown invoice link")
        return await self._checkout(user, bot, invoice, wait=wait)

    async def _checkout(
        self, user: User, bot: BotAccount, invoice: Invoice, *, wait: float
    ) -> PaymentOutcome:
        world = self.world
        query_id = world.new_query_id()
        pending = PendingCheckout(query_id, user.id, invoice, world.clock.now())
        world.checkouts[query_id] = pending
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        world.checkout_waiters[query_id] = waiter
        query = {
            "id": query_id,
            "from": user_json(user),
            "currency": invoice.currency,
            "total_amount": invoice.total_amount,
            "invoice_payload": invoice.payload,
        }
        world.push_update(bot, "pre_checkout_query", query, chat_key=user.id)
        try:
            await asyncio.wait_for(waiter, wait)
        except TimeoutError:
            world.checkout_waiters.pop(query_id, None)
            pending.answer = False
            return PaymentOutcome(False, error_message="the bot did not confirm in time")
        if not pending.answer:
            return PaymentOutcome(False, error_message=pending.error_message)
        charge = Charge(
            charge_id=f"stxsandbox{secrets.token_hex(12)}",
            bot_id=bot.id,
            user_id=user.id,
            amount=invoice.total_amount,
            payload=invoice.payload,
            date=world.now(),
        )
        world.charges[charge.charge_id] = charge
        receipt = {
            "currency": invoice.currency,
            "total_amount": invoice.total_amount,
            "invoice_payload": invoice.payload,
            "telegram_payment_charge_id": charge.charge_id,
            "provider_payment_charge_id": "",
        }
        chat = world.private_chat(bot, user)
        world.post(chat, user, {"successful_payment": receipt})
        return PaymentOutcome(True, charge_id=charge.charge_id)

    def _post(
        self,
        user: User,
        chat: Chat,
        content: dict[str, Any],
        *,
        reply_to: HasMessageId | int | None,
        topic: int | None,
    ) -> Message:
        target = reply_to if isinstance(reply_to, int) or reply_to is None else reply_to.message_id
        if target is not None and target not in chat.messages:
            raise ActionRefused("the message to reply to is not in this chat")
        if topic is not None and topic not in chat.topics:
            raise ActionRefused("no such topic")
        return self.world.post(chat, user, content, thread_id=topic, reply_to=target)
