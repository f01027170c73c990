"""The last resort: a short apology for the user, the traceback for the operator.

The error is raised again afterwards, so the pipeline learns that the update failed and the
inbox says so (`failed`, with the error) instead of `done`. While the database is away and the
pipeline is going to try the update again (`retry_on_outage`), nobody is told anything yet.
"""

from __future__ import annotations

import structlog
from aiogram import Bot
from aiogram.types import ErrorEvent
from dishka.integrations.aiogram import FromDishka

from magpie.conversation.ports import Undelivered
from magpie.storage.outages import database_unavailable
from magpie.telegram.middlewares import log_context
from magpie.texts import Texts

log = structlog.get_logger(__name__)


async def on_error(
    event: ErrorEvent, bot: Bot, texts: FromDishka[Texts], retry_on_outage: bool = False
) -> None:
    with structlog.contextvars.bound_contextvars(**log_context(event.update)):
        if retry_on_outage and database_unavailable(event.exception):
            raise event.exception  # the pipeline waits for the database and tries again
        if isinstance(event.exception, Undelivered):  # Telegram would not take the reply: an
            log.warning("update.undelivered", reason=event.exception.reason)  # apology neither
            raise event.exception
        log.error("update.crashed", exc_info=event.exception)
        await apologise(event, bot, texts)
    raise event.exception


async def apologise(event: ErrorEvent, bot: Bot, texts: Texts) -> None:
    """Best effort: a private chat or a command gets a word; failing to send it is logged."""
    message = event.update.message
    if message is None:
        return
    addressed = message.chat.type == "private" or (message.text or "").startswith("/")
    if not addressed:
        return
    try:
        await bot.send_message(
            message.chat.id,
            texts.crashed,
            message_thread_id=message.message_thread_id if message.is_topic_message else None,
        )
    except Exception:
        log.warning("update.apology_failed", exc_info=True)
