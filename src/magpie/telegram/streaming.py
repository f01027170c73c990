"""A reply as it is written: drafts in private chats, one paced edited message in groups.

Implements the conversation's ReplyChannel. Progress updates are best effort (a 429 or a
failure only slows or stops the preview); the final message is what counts: it is split to
Telegram's limits, sent with entities (never parse_mode) and falls back to plain text if
Telegram still refuses the entities. Retries (429s, 5xx, resets) are the sending path's
(telegram/delivery.py); what still fails raises Undelivered with what did get through.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup, Message, MessageEntity, ReplyParameters

from magpie.conversation.cleaning import clean_reply
from magpie.conversation.ports import Undelivered
from magpie.telegram.delivery import best_effort
from magpie.telegram.formatting import Formatted, render_markdown, utf16_len
from magpie.telegram.questions import keyboard
from magpie.telegram.splitting import split_for_telegram
from magpie.texts import Texts

log = structlog.get_logger(__name__)
T = TypeVar("T")
_draft_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Pacing:
    """How often previews may change: drafts ~1/s per chat; edits within 20/min per group."""

    draft_interval: float = 1.0
    edit_interval: float = 3.0
    typing_interval: float = 4.5
    thinking_after: float = 0.3  # nothing shows before this: fast answers arrive whole


class TelegramReply:
    """Streams one assistant reply into one chat (or topic)."""

    def __init__(
        self,
        bot: Bot,
        *,
        chat_id: int,
        private: bool,
        thread_id: int | None = None,
        reply_to: int | None = None,
        pacing: Pacing | None = None,
        texts: Texts,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.bot = bot
        self.texts = texts
        self.chat_id = chat_id
        self.private = private
        self.thread_id = thread_id or None
        self.reply_to = reply_to
        self.pacing = pacing or Pacing()
        self.clock = clock
        self.sleep = sleep
        self.busy = busy  # the process runs late: previews, being optional, are skipped
        self.draft_id = next(_draft_ids)
        self._next_preview = 0.0
        self._preview_broken = False
        self._streamed: Message | None = None
        self._streamed_text = ""
        self._typing: asyncio.Task[None] | None = None
        self._spoke = False  # the first words (or the final message) went out
        self._early = ""  # words that came before thinking_after, shown then if still going

    # --- while thinking ---------------------------------------------------------------------

    async def thinking(self) -> None:
        """Nothing for a short moment, then the words so far, or 'Thinking…' (a draft) in
        private chats and typing elsewhere. Fast answers arrive whole: nothing flashes and no
        call is wasted."""
        self._next_preview = self.clock() + self.pacing.thinking_after
        self._typing = asyncio.create_task(self._show_thinking())

    async def _show_thinking(self) -> None:
        await self.sleep(self.pacing.thinking_after)
        if self._spoke or self.busy():
            return
        if self.private:  # the words so far, or an empty draft (Telegram shows "Thinking…")
            await self._draft(self._rendered(self._early) or Formatted(""))
            return
        with contextlib.suppress(Exception), best_effort():
            while True:
                await self.bot.send_chat_action(
                    self.chat_id, "typing", message_thread_id=self.thread_id
                )
                await self.sleep(self.pacing.typing_interval)

    def _stop_typing(self) -> None:
        self._spoke = True
        if self._typing is not None:
            self._typing.cancel()
            self._typing = None

    # --- while writing ----------------------------------------------------------------------

    async def progress(self, text: str) -> None:
        """Show the text so far, no faster than Telegram tolerates (nor when busy)."""
        if self._preview_broken or not text.strip():
            return
        if self.clock() < self._next_preview or self.busy():
            self._early = text
            return
        shown = self._rendered(text)
        if shown is not None:
            await self._show(shown)

    @staticmethod
    def _rendered(text: str) -> Formatted | None:
        shown = render_markdown(clean_reply(text))
        if not shown.text.strip() or len(shown.text) > 4000:
            return None  # nothing to show, or too long for one message: the final split takes over
        return shown

    async def status(self, text: str) -> None:
        """Say what is happening ("searching the web…") until words arrive."""
        label = f"⏳ {text}"
        await self._show(
            Formatted(label, (MessageEntity(type="italic", offset=0, length=utf16_len(label)),))
        )

    async def _show(self, shown: Formatted) -> None:
        """The preview: the draft in private chats; in groups, one message sent then edited."""
        self._stop_typing()
        if self.private:
            await self._draft(shown)
            return
        self._next_preview = self.clock() + self.pacing.edit_interval
        if self._streamed is None:
            sent = await self._preview(functools.partial(self._send, shown))
            if isinstance(sent, Message):
                self._streamed, self._streamed_text = sent, shown.text
        elif shown.text != self._streamed_text:
            await self._preview(functools.partial(self._edit, self._streamed.message_id, shown))
            self._streamed_text = shown.text

    async def _draft(self, shown: Formatted) -> None:
        self._next_preview = self.clock() + self.pacing.draft_interval
        await self._preview(
            lambda: self.bot.send_message_draft(
                self.chat_id,
                self.draft_id,
                message_thread_id=self.thread_id,
                text=shown.text,
                entities=list(shown.entities) or None,
                can_stop=True,
            )
        )

    async def _preview(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """A preview call: a 429 postpones the next one, any other failure stops previews."""
        try:
            with best_effort():
                return await call()
        except TelegramRetryAfter as error:
            self._next_preview = self.clock() + error.retry_after
        except TelegramAPIError as error:  # any other refusal: previews stop, the answer goes on
            log.warning("reply.preview_failed", error=str(error))
            self._preview_broken = True
        return None

    # --- done -------------------------------------------------------------------------------

    async def finish(self, text: str, *, ask: int | None = None) -> list[tuple[int, str]]:
        """Deliver the final text (its last message with Allow / Don't buttons for question
        `ask`); returns (message_id, text) of every message it ended in.

        Raises Undelivered (with the messages that did get through) when Telegram still
        refuses after the sending path's retries."""
        self._stop_typing()
        chunks = split_for_telegram(render_markdown(text)) or [Formatted(text.strip() or "…")]
        delivered: list[tuple[int, str]] = []
        try:
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                buttons = keyboard(ask, self.texts) if ask is not None and last else None
                if index == 0 and self._streamed is not None:
                    message_id = await self._final_edit(self._streamed.message_id, chunk, buttons)
                else:
                    message_id = (await self._final_send(chunk, buttons)).message_id
                delivered.append((message_id, chunk.text))
        except TelegramAPIError as error:
            log.error("reply.undelivered", error=str(error), delivered=len(delivered))
            raise Undelivered(delivered, f"{type(error).__name__}: {error}"[:300]) from error
        return delivered

    async def _final_send(
        self, chunk: Formatted, buttons: InlineKeyboardMarkup | None = None
    ) -> Message:
        try:
            return await self._send(chunk, buttons)
        except TelegramBadRequest as error:
            if "entit" not in str(error).lower():
                raise
            log.warning("reply.entities_refused", error=str(error))
            return await self._send(chunk.plain(), buttons)

    async def _final_edit(
        self, message_id: int, chunk: Formatted, buttons: InlineKeyboardMarkup | None = None
    ) -> int:
        """Turn the streamed preview into the final text (plain text if entities are refused)."""
        for attempt in (chunk, chunk.plain()):
            try:
                await self._edit(message_id, attempt, buttons)
                return message_id
            except TelegramBadRequest as error:
                if "not modified" in str(error):
                    return message_id
                if "entit" not in str(error).lower():
                    raise
        return message_id

    def _edit(
        self, message_id: int, chunk: Formatted, buttons: InlineKeyboardMarkup | None = None
    ) -> Awaitable[Message | bool]:
        return self.bot.edit_message_text(
            text=chunk.text,
            chat_id=self.chat_id,
            message_id=message_id,
            entities=list(chunk.entities) or None,
            reply_markup=buttons,
        )

    def _send(
        self, chunk: Formatted, buttons: InlineKeyboardMarkup | None = None
    ) -> Awaitable[Message]:
        reply = (
            ReplyParameters(message_id=self.reply_to, allow_sending_without_reply=True)
            if self.reply_to is not None and not self.private
            else None
        )
        return self.bot.send_message(
            self.chat_id,
            chunk.text,
            entities=list(chunk.entities) or None,
            message_thread_id=self.thread_id,
            reply_parameters=reply,
            reply_markup=buttons,
        )


@dataclass(frozen=True, slots=True)
class Replies:
    """Makes the reply channel for a message (or a resumed question), with the app's pacing,
    texts and sense of how busy the process is."""

    bot: Bot
    pacing: Pacing
    texts: Texts
    busy: Callable[[], bool]

    def to(self, message: Message) -> TelegramReply:
        """An answer to `message`: same chat, same topic, replying in groups."""
        return self.at(
            message.chat.id,
            private=message.chat.type == "private",
            thread_id=message.message_thread_id if message.is_topic_message else None,
            reply_to=message.message_id,
        )

    def at(
        self, chat_id: int, *, private: bool, thread_id: int | None, reply_to: int | None
    ) -> TelegramReply:
        return TelegramReply(
            self.bot,
            chat_id=chat_id,
            private=private,
            thread_id=thread_id,
            reply_to=reply_to,
            pacing=self.pacing,
            texts=self.texts,
            busy=self.busy,
        )
