"""Getting updates: long polling with Telegram's conflict rules, and webhooks."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from tg_sandbox.bots import WebhookConfig
from tg_sandbox.errors import bad_request, conflict
from tg_sandbox.methods.call import Answer, Call

SECRET_RE = re.compile(r"^[A-Za-z0-9_-]*$")
UPDATE_KINDS = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "guest_message",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
        "managed_bot",
        "subscription",
        "stopped_message_generation",
    }
)
POLL_CONFLICT = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


def _allowed_updates(call: Call) -> None:
    """allowed_updates is sticky: only a call that passes it changes it."""
    if not call.params.has("allowed_updates"):
        return
    value = call.params.json("allowed_updates", "can't parse allowed updates JSON object")
    if not isinstance(value, list):
        raise bad_request("can't parse allowed updates JSON object")
    call.bot.allowed_updates = [str(kind) for kind in value if str(kind) in UPDATE_KINDS]


async def get_updates(call: Call) -> list[dict[str, Any]]:
    bot, params, clock = call.bot, call.params, call.world.clock
    if bot.webhook is not None:
        raise conflict(WEBHOOK_ACTIVE)
    offset = params.integer("offset")
    limit = params.integer("limit", 100, lo=1, hi=100)
    timeout = float(params.integer("timeout", 0, lo=0, hi=50))
    _allowed_updates(call)

    now = clock.now()
    last_offset, last_time = bot.last_poll
    if call.world.anti_spin and offset == last_offset and timeout < 3:  # Telegram's rule
        if now - last_time < 0.5:
            limit = 1
        if now - last_time < 3:
            timeout = 3.0
    bot.last_poll = (offset, now)

    bot.queue.confirm(offset)
    if bot.held_poll is not None and not bot.held_poll.done():
        bot.held_poll.set_exception(conflict(POLL_CONFLICT))
    mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    bot.held_poll = mine
    try:
        if not len(bot.queue) and timeout > 0:
            waiting = asyncio.ensure_future(bot.queue.wait(timeout))
            try:
                await asyncio.wait({waiting, mine}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiting.cancel()
            if mine.done():
                mine.result()  # raises the conflict
            await asyncio.sleep(0.001)  # Telegram's LONG_POLL_WAIT_AFTER: gather a burst
        return [update.as_json() for update in bot.queue.take(limit)]
    finally:
        if bot.held_poll is mine:
            bot.held_poll = None
        if not mine.done():
            mine.cancel()


def _check_webhook_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("invalid webhook URL specified")
    try:
        ipaddress.ip_address(parts.hostname)
    except ValueError:
        if not re.match(r"^[A-Za-z0-9.-]+$", parts.hostname):
            raise bad_request("invalid webhook URL specified") from None


async def set_webhook(call: Call) -> Answer:
    bot, params = call.bot, call.params
    url = (params.get("url") or "").strip()
    secret = params.get("secret_token")
    if secret is not None:
        if len(secret) > 256:
            raise bad_request("secret token is too long")
        if not SECRET_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
    max_connections = params.integer("max_connections", 40, lo=1, hi=100)
    if params.flag("drop_pending_updates"):
        bot.queue.clear()
    _allowed_updates(call)
    if not url:
        answer: Answer = await delete_webhook(call)
        return answer
    _check_webhook_url(url)
    if bot.held_poll is not None and not bot.held_poll.done():
        bot.held_poll.set_exception(conflict("terminated by setWebhook request"))
    current = bot.webhook
    if current is not None and (current.url, current.secret_token, current.max_connections) == (
        url,
        secret or None,
        max_connections,
    ):
        return Answer(True, "Webhook is already set")
    bot.webhook = WebhookConfig(
        url=url,
        secret_token=secret or None,
        max_connections=max_connections,
        ip_address=params.get("ip_address") or None,
    )
    call.webhooks.restart(bot)
    return Answer(True, "Webhook was set")


async def delete_webhook(call: Call) -> Answer:
    bot = call.bot
    if call.params.flag("drop_pending_updates"):
        bot.queue.clear()
    if bot.webhook is None:
        return Answer(True, "Webhook is already deleted")
    bot.webhook = None
    call.webhooks.restart(bot)
    return Answer(True, "Webhook was deleted")


async def get_webhook_info(call: Call) -> dict[str, Any]:
    bot, hook = call.bot, call.bot.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.queue),
    }
    if hook is None:
        return info
    if hook.ip_address:
        info["ip_address"] = hook.ip_address
    if hook.last_error_date is not None:
        info["last_error_date"] = hook.last_error_date
        info["last_error_message"] = hook.last_error_message or ""
    info["max_connections"] = hook.max_connections
    if bot.allowed_updates:
        info["allowed_updates"] = bot.allowed_updates
    return info
