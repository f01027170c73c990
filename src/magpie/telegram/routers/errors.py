"""The last resort: a short apology for the user, the traceback for the operator."""

from __future__ import annotations

import structlog
from aiogram import Bot
from aiogram.types import ErrorEvent
from dishka.integrations.aiogram import FromDishka

from magpie.texts import Texts

log = structlog.get_logger(__name__)


async def on_error(event: ErrorEvent, bot: Bot, texts: FromDishka[Texts]) -> None:
    log.error("update.crashed", exc_info=event.exception)
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
