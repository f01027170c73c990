"""The assistant service: remember every message, answer the ones meant for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from magpie.conversation.cleaning import clean_reply
from magpie.conversation.context import TokenCounter, build_prompt
from magpie.conversation.ports import ConversationStore, Model, PreferencesStore, ReplyChannel
from magpie.conversation.running import RunningTurns
from magpie.conversation.safety import reveals_instructions
from magpie.conversation.triggers import why_answer
from magpie.conversation.types import (
    Completion,
    ConversationKey,
    Identity,
    Incoming,
    Outcome,
    Sent,
    TurnRecord,
)
from magpie.texts import Texts

log = structlog.get_logger(__name__)
HISTORY_LINES = 400


class ModelFailure(Exception):
    """A model call that ended without an answer; `reason` is safe to show to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TurnSettings:
    persona: str
    context_tokens: int


class Assistant:
    """Decides, assembles context, runs the model, delivers the reply and records the turn."""

    def __init__(
        self,
        *,
        store: ConversationStore,
        preferences: PreferencesStore,
        model: Model,
        identity: Identity,
        settings: TurnSettings,
        count: TokenCounter,
        running: RunningTurns,
        texts: Texts,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.preferences = preferences
        self.model = model
        self.identity = identity
        self.settings = settings
        self.count = count
        self.running = running
        self.texts = texts
        self.clock = clock

    async def on_message(
        self, message: Incoming, channel: ReplyChannel, *, redelivered: bool = False
    ) -> TurnRecord | None:
        """Remember the message; answer it, once, when it is meant for the assistant.

        `redelivered`: the update is handled again after a restart, so it may have been
        answered already (the answer was recorded, the update's "done" mark was not).
        """
        trigger = why_answer(message, self.identity)
        if trigger is None:
            await self.store.save_incoming(message)
            return None
        if redelivered and await self.store.answered(message.key, message.message_id):
            log.info("turn.already_answered", message_id=message.message_id)
            return None
        log.info("turn.triggered", trigger=trigger.value)
        if not message.readable:
            await self.store.save_incoming(message)
            kind = message.kind.replace("_", " ")
            empty = message.kind in ("text", "other")
            await channel.finish(
                self.texts.empty if empty else self.texts.unsupported.format(kind=kind)
            )
            return None
        return await self.answer(message, channel)

    async def retry(self, key: ConversationKey, channel: ReplyChannel) -> TurnRecord | None:
        """Answer the last message that was answered (or meant to be) again."""
        message = await self.store.last_prompt(key)
        if message is None:
            return None
        return await self.answer(message, channel)

    async def remember_edit(self, message: Incoming) -> None:
        """An edited message replaces what is remembered (an edit never triggers an answer)."""
        await self.store.save_edit(message)

    async def start_fresh(self, key: ConversationKey) -> None:
        self.running.stop(key)
        await self.store.start_fresh(key)

    def stop(self, key: ConversationKey) -> bool:
        return self.running.stop(key)

    async def answer(self, message: Incoming, channel: ReplyChannel) -> TurnRecord:
        """One turn. The message and the turn are stored together once the reply is out (one
        write per turn); if the turn breaks, the message is still stored, alone."""
        try:
            return await self._answer(message, channel)
        except Exception:
            await self.store.save_incoming(message)
            raise

    async def _answer(self, message: Incoming, channel: ReplyChannel) -> TurnRecord:
        started = self.clock()
        lines = await self.store.history(message.key, limit=HISTORY_LINES)
        preferences = await self.preferences.get(message.key.chat_id)
        prompt = build_prompt(
            persona=preferences.persona or self.settings.persona,
            lines=lines,
            message=message,
            budget=self.settings.context_tokens,
            count=self.count,
        )
        await channel.thinking()
        latest = ""
        leaked = False

        async def on_text(text: str) -> None:
            nonlocal latest, leaked
            latest = text
            leaked = leaked or reveals_instructions(text, prompt.system)
            if not leaked:  # a leak must not flash by in a preview either
                await channel.progress(text)

        generation = asyncio.ensure_future(
            self.model.complete(
                prompt,
                caller=message.caller,
                preferences=preferences,
                on_text=on_text,
                on_status=channel.status,
            )
        )
        self.running.add(message.key, generation)
        error: str | None = None
        completion = Completion(text="", model=self.model.name)
        try:
            completion = await asyncio.shield(generation)
            said = clean_reply(completion.text)
            outcome = Outcome.ANSWERED if said.strip() else Outcome.EMPTY
            final = said if said.strip() else self.texts.model_empty
        except asyncio.CancelledError:
            if not generation.cancelled():
                generation.cancel()
                raise  # the handler itself is being cancelled (shutdown)
            outcome = Outcome.STOPPED
            written = clean_reply(latest)
            final = (
                written + self.texts.stopped_suffix if written.strip() else self.texts.stopped_empty
            )
        except ModelFailure as failure:
            outcome, error = Outcome.FAILED, failure.reason
            final = self.texts.model_failed.format(reason=failure.reason)
        except Exception as crash:
            log.exception("turn.model_crashed")
            outcome, error = Outcome.FAILED, f"{type(crash).__name__}: {crash}"
            final = self.texts.model_failed.format(reason="unexpected error")
        if leaked or reveals_instructions(final, prompt.system):  # answered or stopped midway
            log.warning("turn.instructions_withheld", outcome=outcome.value)
            final = self.texts.instructions_withheld
        sent = await channel.finish(final)
        record = TurnRecord(
            key=message.key,
            trigger_message_id=message.message_id,
            model=completion.model or self.model.name,
            outcome=outcome,
            tokens_in=completion.tokens_in or prompt.tokens,
            tokens_out=completion.tokens_out or self.count(completion.text or latest),
            latency_ms=int((self.clock() - started) * 1000),
            sent=tuple(Sent(message_id, text) for message_id, text in sent),
            error=error,
        )
        await self.store.save_turn(record, asked=message)
        log.info(
            "turn.finished",
            outcome=outcome.value,
            model=record.model,
            tokens_in=record.tokens_in,
            tokens_out=record.tokens_out,
            latency_ms=record.latency_ms,
            error=error,
        )
        return record
