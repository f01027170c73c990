"""Asking the invoking person, with inline buttons, before a side-effecting tool runs."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog
from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from magpie.texts import Texts
from magpie.tools.deps import ToolDeps
from magpie.tools.spec import ToolSpec

log = structlog.get_logger(__name__)
PREFIX = "confirm"


class Answer(StrEnum):
    """What pressing a confirmation button led to."""

    ACCEPTED = "accepted"
    NOT_YOURS = "not_yours"
    EXPIRED = "expired"


@dataclass(slots=True)
class _Pending:
    user_id: int
    user_name: str
    decision: asyncio.Future[bool]


class PendingConfirmations:
    """Questions waiting for a button press, by id; only the invoking person may answer."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}

    def open(self, user_id: int, user_name: str) -> int:
        key = next(self._ids)
        decision: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[key] = _Pending(user_id, user_name, decision)
        return key

    def owner(self, key: int) -> str:
        pending = self._pending.get(key)
        return pending.user_name if pending is not None else "the person who asked"

    async def wait(self, key: int, seconds: float) -> bool | None:
        """True/False once answered; None when nobody answered in time."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._pending[key].decision), seconds)
        except TimeoutError:
            return None
        finally:
            self._pending.pop(key, None)

    def answer(self, key: int, *, user_id: int, allow: bool) -> Answer:
        pending = self._pending.get(key)
        if pending is None or pending.decision.done():
            return Answer.EXPIRED
        if pending.user_id != user_id:
            return Answer.NOT_YOURS
        pending.decision.set_result(allow)
        return Answer.ACCEPTED


def parse(data: str) -> tuple[int, bool] | None:
    """`confirm:<id>:yes|no` → (id, allow)."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2] == "yes"


def _summary(arguments: dict[str, Any]) -> str:
    text = json.dumps(arguments, ensure_ascii=False)
    return text if len(text) <= 300 else text[:300] + "…"


class TelegramConfirmer:
    """The tool guard's Confirmer: a message with Allow / Don't buttons, then the outcome."""

    def __init__(
        self, bot: Bot, pending: PendingConfirmations, texts: Texts, *, seconds: float = 120.0
    ) -> None:
        self.bot = bot
        self.pending = pending
        self.texts = texts
        self.seconds = seconds

    async def confirm(self, deps: ToolDeps, tool: ToolSpec, arguments: dict[str, Any]) -> bool:
        key = self.pending.open(deps.user_id, deps.user_name)
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=self.texts.allow, callback_data=f"{PREFIX}:{key}:yes"
                    ),
                    InlineKeyboardButton(text=self.texts.deny, callback_data=f"{PREFIX}:{key}:no"),
                ]
            ]
        )
        question = self.texts.confirm_tool.format(
            user=deps.user_name, tool=tool.name, arguments=_summary(arguments)
        )
        message = await self.bot.send_message(
            deps.chat_id,
            question,
            reply_markup=keyboard,
            message_thread_id=deps.thread_id or None,
        )
        decision = await self.pending.wait(key, self.seconds)
        outcome = {
            True: self.texts.confirmed,
            False: self.texts.declined,
            None: self.texts.unanswered,
        }[decision].format(user=deps.user_name, tool=tool.name)
        try:
            await self.bot.edit_message_text(
                text=f"{question}\n\n{outcome}", chat_id=deps.chat_id, message_id=message.message_id
            )
        except Exception:
            log.warning("confirmation.edit_failed", exc_info=True)
        return bool(decision)
