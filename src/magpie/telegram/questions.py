"""Questions about tool calls on Telegram: Allow / Don't buttons, and closing them afterwards."""

from __future__ import annotations

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from magpie.conversation.types import ConversationKey
from magpie.telegram.formatting import render_markdown
from magpie.texts import Texts

log = structlog.get_logger(__name__)
PREFIX = "approve"


def keyboard(approval_id: int, texts: Texts) -> InlineKeyboardMarkup:
    """`approve:<id>:yes|no` — the id of the stored question, nothing the model wrote."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=texts.allow, callback_data=f"{PREFIX}:{approval_id}:yes"),
                InlineKeyboardButton(text=texts.deny, callback_data=f"{PREFIX}:{approval_id}:no"),
            ]
        ]
    )


def parse(data: str) -> tuple[int, bool] | None:
    """`approve:<id>:yes|no` → (id, allow); None for anything else."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1].isdigit():
        return None
    if parts[2] not in ("yes", "no"):
        return None
    return int(parts[1]), parts[2] == "yes"


class TelegramQuestions:
    """The conversation's Questions port: edit a question to its outcome, buttons removed."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def settle(self, key: ConversationKey, message_id: int, text: str) -> str:
        shown = render_markdown(text)
        if len(shown.text) > 4096:  # the question grew too long with its outcome: outcome only
            shown = render_markdown(text.rsplit("\n\n", 1)[-1])
        try:
            await self.bot.edit_message_text(
                text=shown.text,
                chat_id=key.chat_id,
                message_id=message_id,
                entities=list(shown.entities) or None,
            )
        except TelegramAPIError as error:  # deleted, too old: the outcome is still recorded
            log.warning("question.edit_failed", error=str(error))
        return shown.text
