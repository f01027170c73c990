"""The assistant service: remember every message, answer the ones meant for it.

A turn that reaches a tool needing someone's yes ends with the question (Outcome.WAITING): the
paused run is stored, the conversation goes on, and the answer resumes the run — in this
process or another, now or after a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum

import structlog

from magpie.billing.accounts import REVENUE
from magpie.billing.meter import Admission, Unmetered
from magpie.billing.policy import Payer
from magpie.billing.prices import Usage
from magpie.conversation.cleaning import clean_reply
from magpie.conversation.clock import Clock
from magpie.conversation.context import TokenCounter, build_prompt
from magpie.conversation.limits import limit_reply
from magpie.conversation.ports import (
    ApprovalStore,
    ConversationStore,
    Meter,
    Model,
    ModelFailure,
    PreferencesStore,
    Questions,
    ReplyChannel,
    TextSink,
    Undelivered,
)
from magpie.conversation.questions import question_text
from magpie.conversation.running import RunningTurns
from magpie.conversation.safety import reveals_instructions
from magpie.conversation.triggers import why_answer
from magpie.conversation.types import (
    Approval,
    ApprovalStatus,
    Caller,
    Completion,
    ConversationKey,
    Identity,
    Incoming,
    NewApproval,
    Outcome,
    Sent,
    TurnRecord,
)
from magpie.limits.users import UserLimits
from magpie.texts import Texts

log = structlog.get_logger(__name__)
HISTORY_LINES = 400
LIMITED_BY = "limit: "  # a limited turn's `error` says which limit (user_cap, no_credit, …)
Generate = Callable[[TextSink], Awaitable[Completion]]


@dataclass(frozen=True, slots=True)
class TurnSettings:
    persona: str
    context_tokens: int
    question_seconds: float = 600.0  # how long a question about a tool call stays open


class Answer(StrEnum):
    """What pressing Allow or Don't led to."""

    ACCEPTED = "accepted"
    NOT_YOURS = "not_yours"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of pressing a button on a question; `approval` when the run may go on."""

    answer: Answer
    approval: Approval | None = None
    owner: str = ""


@dataclass(frozen=True, slots=True)
class _Turn:
    """Where a turn happens, for whom, and what it answers."""

    key: ConversationKey
    trigger_message_id: int
    caller: Caller
    system: str
    asked: Incoming | None = None
    model: str = ""  # the chat's model, which prices the turn's hold


class Assistant:
    """Decides, assembles context, runs the model, delivers the reply and records the turn."""

    def __init__(
        self,
        *,
        store: ConversationStore,
        preferences: PreferencesStore,
        approvals: ApprovalStore,
        questions: Questions,
        model: Model,
        identity: Identity,
        settings: TurnSettings,
        count: TokenCounter,
        running: RunningTurns,
        texts: Texts,
        clock: Clock,
        limits: UserLimits | None = None,
        meter: Meter | None = None,
    ) -> None:
        self.store = store
        self.preferences = preferences
        self.approvals = approvals
        self.questions = questions
        self.model = model
        self.identity = identity
        self.settings = settings
        self.count = count
        self.running = running
        self.texts = texts
        self.clock = clock
        self.limits = limits  # per-user rate limits; None: none
        self.meter: Meter = meter or Unmetered()

    async def on_message(
        self, message: Incoming, channel: ReplyChannel, *, redelivered: bool = False
    ) -> TurnRecord | None:
        """Remember the message; answer it, once, when it is meant for the assistant.

        `redelivered`: the update is handled again after a restart, so it may have been
        answered already (the answer was recorded, the update's "done" mark was not), or
        stopped between recording its reply and sending it (then that reply is sent).
        """
        trigger = why_answer(message, self.identity)
        if trigger is None:
            await self.store.save_incoming(message)
            return None
        if redelivered:
            recorded = await self.store.recorded(message.key, message.message_id)
            if recorded is not None and recorded.outcome is Outcome.DELIVERING:
                return await self._redeliver(recorded, channel)
            if recorded is not None and recorded.outcome is not Outcome.UNDELIVERED:
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
        if not await self.within_limits(message.speaker.id, channel, exempt=message.is_bot_admin):
            await self.store.save_incoming(message)  # remembered, not answered
            return None
        return await self.answer(message, channel)

    async def within_limits(
        self, user_id: int, channel: ReplyChannel, *, exempt: bool = False
    ) -> bool:
        """Count a request from `user_id` against their rate limits (bot admins are exempt);
        over a limit they are told once, in `channel`, when they can write again."""
        if self.limits is None:
            return True
        verdict = await self.limits.admit(user_id, exempt=exempt)
        if verdict.allowed:
            return True
        log.warning("user.limited", limit=verdict.limit, until=verdict.until, told=verdict.tell)
        if verdict.tell:
            await channel.finish(self.limits.refusal_text(verdict, self.texts))
        return False

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
        await self._close_questions(key)
        await self.store.start_fresh(key)

    async def stop(self, key: ConversationKey) -> bool:
        """Stop the reply being written and close open questions; False when there was none."""
        stopped = self.running.stop(key)
        closed = await self._close_questions(key)
        return stopped or closed > 0

    async def answer(self, message: Incoming, channel: ReplyChannel) -> TurnRecord:
        """One turn. The message and the turn are stored together once the reply is out (one
        write per turn); if the turn breaks, the message is still stored, alone."""
        try:
            record = await self._answer(message, channel)
        except Exception:
            await self.store.save_incoming(message)
            raise
        if self.limits is not None:
            tokens = record.tokens_in + record.tokens_out
            await self.limits.spend(message.speaker.id, tokens, exempt=message.is_bot_admin)
        return record

    async def _answer(self, message: Incoming, channel: ReplyChannel) -> TurnRecord:
        lines = await self.store.history(message.key, limit=HISTORY_LINES)
        preferences = await self.preferences.get(message.key.chat_id)
        prompt = build_prompt(
            persona=preferences.persona or self.settings.persona,
            lines=lines,
            message=message,
            budget=self.settings.context_tokens,
            count=self.count,
        )
        model = preferences.model or self.model.name
        turn = _Turn(message.key, message.message_id, message.caller, prompt.system, message, model)

        def generate(on_text: TextSink) -> Awaitable[Completion]:
            return self.model.complete(
                prompt,
                caller=message.caller,
                preferences=preferences,
                on_text=on_text,
                on_status=channel.status,
            )

        return await self._turn(turn, channel, generate, prompt_tokens=prompt.tokens)

    # --- questions about tool calls -----------------------------------------------------------

    async def claim(
        self, approval_id: int, *, user_id: int, allow: bool, again: bool = False
    ) -> Claim:
        """Someone pressed Allow or Don't: only the asker may, and only once."""
        approval = await self.approvals.get(approval_id)
        status = ApprovalStatus.ALLOWED if allow else ApprovalStatus.DENIED
        open_ = approval is not None and (
            approval.status is ApprovalStatus.PENDING or (again and approval.status is status)
        )
        if approval is None or not open_:
            return Claim(Answer.EXPIRED)
        if approval.user_id != user_id:
            return Claim(Answer.NOT_YOURS, owner=approval.user_name)
        if not await self.approvals.decide(approval_id, status, again=again):
            return Claim(Answer.EXPIRED)
        outcome = self.texts.confirmed if allow else self.texts.declined
        await self._settle(approval, outcome)
        return Claim(Answer.ACCEPTED, approval)

    async def resume(
        self, approval: Approval, *, allow: bool, caller: Caller, channel: ReplyChannel
    ) -> TurnRecord:
        """Go on with the run the question paused, now that its asker has answered."""
        preferences = await self.preferences.get(approval.key.chat_id)
        system = preferences.persona or self.settings.persona
        turn = _Turn(
            approval.key, approval.trigger_message_id, caller, system, model=approval.parked.model
        )

        def generate(on_text: TextSink) -> Awaitable[Completion]:
            return self.model.resume(
                approval.parked,
                allowed=allow,
                caller=caller,
                preferences=preferences,
                on_text=on_text,
                on_status=channel.status,
            )

        record = await self._turn(turn, channel, generate)
        await self.approvals.done(approval.id)
        return record

    async def expire_questions(self) -> int:
        """Close the questions nobody answered in time; how many were closed."""
        closed = 0
        for approval in await self.approvals.due(self.clock.now()):
            if await self.approvals.decide(approval.id, ApprovalStatus.EXPIRED):
                await self._settle(approval, self.texts.unanswered)
                closed += 1
        return closed

    async def _close_questions(self, key: ConversationKey) -> int:
        closed = 0
        for approval in await self.approvals.pending_in(key):
            if await self.approvals.decide(approval.id, ApprovalStatus.CANCELLED):
                await self._settle(approval, self.texts.question_cancelled)
                closed += 1
        return closed

    async def _settle(self, approval: Approval, outcome: str) -> None:
        """The question's buttons go and its outcome is added, for everyone to see."""
        log.info("question.closed", approval_id=approval.id, tool=approval.parked.tool)
        if approval.question_message_id is None:
            return
        said = outcome.format(user=approval.user_name, tool=approval.parked.tool)
        text = f"{approval.question}\n\n_{said}_"
        shown = await self.questions.settle(approval.key, approval.question_message_id, text)
        await self.store.revise_reply(approval.key, approval.question_message_id, shown)

    # --- one turn ------------------------------------------------------------------------------

    async def _turn(
        self, turn: _Turn, channel: ReplyChannel, generate: Generate, *, prompt_tokens: int = 0
    ) -> TurnRecord:
        """Admit the turn (or say why not); run the model with a live preview; record it with
        its charge; deliver the answer (or a question). The hold goes once the charge is
        recorded, or the turn failed."""
        caller = turn.caller
        payer = Payer(
            caller.user_id,
            caller.chat_id,
            in_group=caller.chat_id != caller.user_id,
            exempt=caller.is_bot_admin,
        )
        admission = await self.meter.admit(
            payer, model=turn.model or self.model.name, prompt_tokens=prompt_tokens
        )
        if not admission.allowed:
            return await self._limited(turn, admission, channel)
        try:
            begun, outcome, approval_id, started = await self._generate(
                turn, channel, generate, admission, prompt_tokens=prompt_tokens
            )
        finally:
            self.meter.release(admission)
        return await self._deliver(begun, outcome, channel, ask=approval_id, started=started)

    async def _limited(
        self, turn: _Turn, admission: Admission, channel: ReplyChannel
    ) -> TurnRecord:
        """A limit was hit: the person is told why and what to do; the model is not asked,
        nothing is charged."""
        final = limit_reply(self.texts, admission)
        begun = TurnRecord(
            key=turn.key,
            trigger_message_id=turn.trigger_message_id,
            model=turn.model or self.model.name,
            outcome=Outcome.DELIVERING,
            tokens_in=0,
            tokens_out=0,
            latency_ms=0,
            sent=(),
            error=f"{LIMITED_BY}{admission.decision.limit}",
            text=final,
        )
        await self.store.begin_turn(begun, asked=turn.asked)
        return await self._deliver(begun, Outcome.LIMITED, channel, ask=None, started=None)

    async def _generate(
        self,
        turn: _Turn,
        channel: ReplyChannel,
        generate: Generate,
        admission: Admission,
        *,
        prompt_tokens: int,
    ) -> tuple[TurnRecord, Outcome, int | None, float]:
        """Run the model and record the turn (and its charge) as being delivered."""
        started = self.clock.monotonic()
        await channel.thinking()
        latest = ""
        leaked = False

        async def on_text(text: str) -> None:
            nonlocal latest, leaked
            latest = text
            leaked = leaked or reveals_instructions(text, turn.system)
            if not leaked:  # a leak must not flash by in a preview either
                await channel.progress(text)

        generation = asyncio.ensure_future(generate(on_text))
        self.running.add(turn.key, generation)
        error: str | None = None
        completion = Completion(text="", model=self.model.name)
        try:
            completion = await asyncio.shield(generation)
            said = clean_reply(completion.text)
            if completion.parked is not None:
                outcome = Outcome.WAITING
                asking = question_text(self.texts, turn.caller.name, completion.parked)
                final = f"{said}\n\n{asking}" if said.strip() else asking
            else:
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
        if leaked or reveals_instructions(final, turn.system):  # answered or stopped midway
            log.warning("turn.instructions_withheld", outcome=outcome.value)
            final = self.texts.instructions_withheld
            outcome = Outcome.ANSWERED if outcome is Outcome.WAITING else outcome
        approval_id = None
        if outcome is Outcome.WAITING and completion.parked is not None:
            approval_id = await self.approvals.open(
                NewApproval(
                    key=turn.key,
                    user_id=turn.caller.user_id,
                    user_name=turn.caller.name,
                    parked=completion.parked,
                    trigger_message_id=turn.trigger_message_id,
                    expires_at=self.clock.now() + timedelta(seconds=self.settings.question_seconds),
                )
            )
        model = completion.model or self.model.name
        tokens_in = completion.tokens_in or prompt_tokens
        tokens_out = completion.tokens_out or self.count(completion.text or latest)
        charge = None
        if outcome is not Outcome.FAILED:  # a failed turn costs nothing
            usage = Usage(
                model,
                tokens_in=tokens_in,
                tokens_cached=completion.tokens_cached,
                tokens_out=tokens_out,
                tool_calls=completion.tool_calls,
            )
            charge = self.meter.charge(admission, usage)
        begun = TurnRecord(
            key=turn.key,
            trigger_message_id=turn.trigger_message_id,
            model=model,
            outcome=Outcome.DELIVERING,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=int((self.clock.monotonic() - started) * 1000),
            sent=(),
            error=error,
            text=final,
            cost=charge.amount_for(REVENUE) if charge is not None else 0,
            charge=charge,
        )
        await self.store.begin_turn(begun, asked=turn.asked)  # before anything is sent
        return begun, outcome, approval_id, started

    async def _redeliver(self, begun: TurnRecord, channel: ReplyChannel) -> TurnRecord:
        """A turn recorded with its reply but not as sent (Magpie stopped in between): send
        that same reply again rather than ask the model anew."""
        log.warning("turn.redelivering", message_id=begun.trigger_message_id)
        asks = [
            a.id
            for a in await self.approvals.pending_in(begun.key)
            if a.trigger_message_id == begun.trigger_message_id
        ]
        if asks:
            outcome = Outcome.WAITING
        elif begun.error and begun.error.startswith(LIMITED_BY):
            outcome = Outcome.LIMITED
        else:
            outcome = Outcome.FAILED if begun.error else Outcome.ANSWERED
        ask = asks[-1] if asks else None
        return await self._deliver(begun, outcome, channel, ask=ask, started=None)

    async def _deliver(
        self,
        begun: TurnRecord,
        outcome: Outcome,
        channel: ReplyChannel,
        *,
        ask: int | None,
        started: float | None,
    ) -> TurnRecord:
        """Send the recorded reply, then record how that went (`started`: for the latency).

        A shutdown that comes meanwhile waits for both: a reply on its way is let out and
        recorded, so the next start does not send it again."""
        delivery = asyncio.ensure_future(
            self._send_and_record(begun, outcome, channel, ask=ask, started=started)
        )
        try:
            return await asyncio.shield(delivery)
        except asyncio.CancelledError:
            if not delivery.done():
                await delivery
            raise

    async def _send_and_record(
        self,
        begun: TurnRecord,
        outcome: Outcome,
        channel: ReplyChannel,
        *,
        ask: int | None,
        started: float | None,
    ) -> TurnRecord:
        error = begun.error
        try:
            sent = await channel.finish(begun.text, ask=ask)
        except Undelivered as failure:  # recorded as such, then the update fails (not done)
            sent, outcome, error = failure.delivered, Outcome.UNDELIVERED, failure.reason
        if ask is not None:
            await self._shown(ask, sent if outcome is Outcome.WAITING else [], begun.text)
        latency = begun.latency_ms
        if started is not None:
            latency = int((self.clock.monotonic() - started) * 1000)
        record = replace(
            begun,
            outcome=outcome,
            error=error,
            latency_ms=latency,
            sent=tuple(Sent(message_id, text) for message_id, text in sent),
        )
        await self.store.finish_turn(record)
        log.info(
            "turn.finished",
            outcome=outcome.value,
            model=record.model,
            tokens_in=record.tokens_in,
            tokens_out=record.tokens_out,
            latency_ms=record.latency_ms,
            error=error,
        )
        if outcome is Outcome.UNDELIVERED:
            raise Undelivered(list(sent), error or "undelivered")
        return record

    async def _shown(self, approval_id: int, sent: list[tuple[int, str]], question: str) -> None:
        """Remember where the question is; one that never reached the chat is closed."""
        if not sent:
            await self.approvals.decide(approval_id, ApprovalStatus.CANCELLED)
            return
        await self.approvals.shown(approval_id, message_id=sent[-1][0], question=question)
