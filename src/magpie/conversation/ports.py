"""What the conversation needs from the outside world, as small Protocols.

storage/ implements ConversationStore, PreferencesStore and ApprovalStore, llm/ implements
Model, telegram/ implements ReplyChannel and Questions; tests use the in-memory twins in
conversation/memory.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from magpie.billing.ledger import Posting
from magpie.billing.meter import Admission
from magpie.billing.policy import Payer
from magpie.billing.prices import Usage
from magpie.conversation.types import (
    Approval,
    ApprovalStatus,
    Caller,
    Completion,
    ConversationKey,
    Incoming,
    Line,
    NewApproval,
    Parked,
    Preferences,
    Prompt,
    TurnRecord,
)

TextSink = Callable[[str], Awaitable[None]]


class ModelFailure(Exception):
    """A model call that ended without an answer; `reason` is safe to show to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Undelivered(Exception):
    """The reply did not (all) reach the chat; `delivered` is what did, `reason` why not."""

    def __init__(self, delivered: list[tuple[int, str]], reason: str) -> None:
        super().__init__(reason)
        self.delivered = delivered
        self.reason = reason


class ConversationStore(Protocol):
    """Remembers messages and turns; each call is its own short transaction."""

    async def save_incoming(self, message: Incoming) -> None:
        """Remember a message (once, however often it is saved)."""
        ...

    async def recorded(self, key: ConversationKey, message_id: int) -> TurnRecord | None:
        """The newest turn recorded for this message (its reply in `text`), if any."""
        ...

    async def history(self, key: ConversationKey, *, limit: int) -> list[Line]: ...

    async def save_edit(self, message: Incoming) -> None: ...

    async def start_fresh(self, key: ConversationKey) -> None: ...

    async def last_prompt(self, key: ConversationKey) -> Incoming | None: ...

    async def begin_turn(self, turn: TurnRecord, *, asked: Incoming | None = None) -> None:
        """Before its reply is sent: the turn (`delivering`, its reply in `text`) and the
        message it answers, in one write."""
        ...

    async def finish_turn(self, turn: TurnRecord) -> None:
        """Once its reply is out (or refused): the turn's outcome and the messages it ended in."""
        ...

    async def revise_reply(self, key: ConversationKey, message_id: int, text: str) -> None:
        """One of Magpie's own messages now reads `text` (a question that was answered)."""
        ...


class Model(Protocol):
    """A language model that streams (`on_text` gets the text so far) and may use tools
    for `caller` (`on_status` gets what is happening, e.g. "searching the web…").

    A run that reaches a tool needing the caller's yes ends with `Completion.parked`;
    `resume` goes on from there once they have answered.
    """

    @property
    def name(self) -> str: ...

    async def complete(
        self,
        prompt: Prompt,
        *,
        caller: Caller,
        preferences: Preferences,
        on_text: TextSink,
        on_status: TextSink,
    ) -> Completion: ...

    async def resume(
        self,
        parked: Parked,
        *,
        allowed: bool,
        caller: Caller,
        preferences: Preferences,
        on_text: TextSink,
        on_status: TextSink,
    ) -> Completion: ...


class PreferencesStore(Protocol):
    """Per-chat choices, changed by /model, /persona and /tools."""

    async def get(self, chat_id: int) -> Preferences: ...

    async def set_model(self, chat_id: int, model: str | None) -> None: ...

    async def set_persona(self, chat_id: int, persona: str | None) -> None: ...

    async def set_tool(self, chat_id: int, tool: str, *, enabled: bool) -> None: ...


class ApprovalStore(Protocol):
    """Questions about tool calls, parked until answered; safe to share between workers."""

    async def open(self, approval: NewApproval) -> int: ...

    async def shown(self, approval_id: int, *, message_id: int, question: str) -> None:
        """Where the question was shown, and its text (to edit it once answered)."""
        ...

    async def get(self, approval_id: int) -> Approval | None: ...

    async def decide(
        self, approval_id: int, status: ApprovalStatus, *, again: bool = False
    ) -> bool:
        """Move a pending question to `status`; True only for the one caller that did.

        `again`: the decision is being redelivered (a restart), so a question already moved
        to `status` but not yet done counts as this caller's too.
        """
        ...

    async def done(self, approval_id: int) -> None: ...

    async def due(self, now: datetime, *, limit: int = 100) -> list[Approval]:
        """Pending questions whose time ran out."""
        ...

    async def pending_in(self, key: ConversationKey) -> list[Approval]: ...


class ReplyChannel(Protocol):
    """Where a reply goes while it is written and when it is done."""

    async def thinking(self) -> None: ...

    async def progress(self, text: str) -> None: ...

    async def status(self, text: str) -> None: ...

    async def finish(self, text: str, *, ask: int | None = None) -> list[tuple[int, str]]:
        """Deliver the final text; with `ask`, it ends with Allow / Don't buttons for that
        question. Returns (message_id, text) of every message it ended in; raises Undelivered
        when it could not be (wholly) delivered."""
        ...


class Meter(Protocol):
    """What a turn may cost: admitted (with a hold) before the model runs, charged after
    (billing/meter.py; `Unmetered` when nothing is priced)."""

    async def admit(self, payer: Payer, *, model: str, prompt_tokens: int) -> Admission: ...

    def charge(self, admission: Admission, usage: Usage) -> Posting | None: ...

    def release(self, admission: Admission) -> None: ...


class Questions(Protocol):
    """Closes a question shown earlier: its buttons go, the outcome is added to its text."""

    async def settle(self, key: ConversationKey, message_id: int, text: str) -> str:
        """Show `text` (Markdown) instead; returns it as shown (plain text, for the record)."""
        ...
