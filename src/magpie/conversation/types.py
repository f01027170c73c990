"""The conversation's own vocabulary, free of Telegram, SQL and vendor types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from magpie.billing.ledger import Posting

ChatType = Literal["private", "group", "supergroup", "channel"]


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """A chat, or one topic of a forum: each has its own history."""

    chat_id: int
    thread_id: int = 0


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who wrote a message."""

    id: int
    name: str
    username: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Addressing:
    """What in a message could be meant for the bot, as extracted from Telegram's entities."""

    mentions: frozenset[str] = frozenset()  # lower-cased usernames without "@"
    mentioned_ids: frozenset[int] = frozenset()  # text mentions of users without usernames
    command: str | None = None  # "/retry" → "retry"
    command_target: str | None = None  # "/retry@magpie_bot" → "magpie_bot"
    replies_to_bot: bool = False


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message someone sent, as the assistant needs it."""

    key: ConversationKey
    message_id: int
    chat_type: ChatType
    speaker: Speaker
    text: str
    sent_at: datetime
    kind: str = "text"
    reply_to_message_id: int | None = None
    addressing: Addressing = field(default_factory=Addressing)
    forwarded_from: str | None = None
    chat_title: str | None = None
    readable: bool = True  # False for media Magpie cannot read yet (the text is a placeholder)
    is_chat_admin: bool = False  # the speaker administers this chat (always, in private)
    is_bot_admin: bool = False  # the speaker is one of BOT_ADMINS

    @property
    def in_group(self) -> bool:
        return self.chat_type != "private"

    @property
    def caller(self) -> Caller:
        return Caller(
            user_id=self.speaker.id,
            name=self.speaker.name,
            chat_id=self.key.chat_id,
            thread_id=self.key.thread_id,
            is_chat_admin=self.is_chat_admin or not self.in_group,
            is_bot_admin=self.is_bot_admin,
        )


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a turn runs for: tools act with this person's permissions, in this chat."""

    user_id: int
    name: str
    chat_id: int
    thread_id: int = 0
    is_chat_admin: bool = False
    is_bot_admin: bool = False


@dataclass(frozen=True, slots=True)
class Preferences:
    """Per-chat choices: the model (/model), the persona (/persona) and tools switched off."""

    model: str | None = None
    persona: str | None = None
    disabled_tools: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Identity:
    """How the bot is known: its id, @username and the names people call it by."""

    id: int
    username: str
    aliases: tuple[str, ...] = ()
    name: str = "Magpie"


@dataclass(frozen=True, slots=True)
class Line:
    """One remembered message, ready to become part of a prompt."""

    message_id: int
    speaker: str
    text: str
    from_assistant: bool


@dataclass(frozen=True, slots=True)
class PromptMessage:
    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the model sees: instructions, earlier messages (oldest first) and the new message."""

    system: str
    history: tuple[PromptMessage, ...]
    message: str
    tokens: int = 0


@dataclass(frozen=True, slots=True)
class Parked:
    """A run stopped at a tool call that needs its asker's yes; `state` resumes it (opaque)."""

    tool: str
    arguments: dict[str, object]
    state: str
    model: str


@dataclass(frozen=True, slots=True)
class Completion:
    """A model's finished answer (or the question it stopped at) and what it cost."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    model: str = ""
    tool_calls: int = 0
    parked: Parked | None = None
    tokens_cached: int = 0  # of tokens_in, those the provider read from its prompt cache


class Outcome(StrEnum):
    """How a turn ended."""

    ANSWERED = "answered"
    STOPPED = "stopped"
    FAILED = "failed"
    EMPTY = "empty"
    WAITING = "waiting"  # ended with a question to the person (a tool needs their yes)
    UNDELIVERED = "undelivered"  # Telegram did not take the reply (the update is not done)
    DELIVERING = "delivering"  # recorded with its reply, which is being sent right now
    LIMITED = "limited"  # a quota or an empty balance stopped it before the model ran


class ApprovalStatus(StrEnum):
    """Where a question about a tool call stands."""

    PENDING = "pending"
    ALLOWED = "allowed"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # /stop or /new closed it
    DONE = "done"  # answered, and the run it resumed has been recorded


@dataclass(frozen=True, slots=True)
class NewApproval:
    """A question to open: who must answer, about what, and the run it resumes."""

    key: ConversationKey
    user_id: int
    user_name: str
    parked: Parked
    trigger_message_id: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Approval:
    """A stored question about one tool call."""

    id: int
    key: ConversationKey
    user_id: int
    user_name: str
    parked: Parked
    trigger_message_id: int
    expires_at: datetime
    status: ApprovalStatus
    question_message_id: int | None = None
    question: str = ""


@dataclass(frozen=True, slots=True)
class Sent:
    """A message the bot sent, for the record."""

    message_id: int
    text: str


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """Everything about one turn that is stored: its outcome, cost and the messages it sent."""

    key: ConversationKey
    trigger_message_id: int | None
    model: str
    outcome: Outcome
    tokens_in: int
    tokens_out: int
    latency_ms: int
    sent: tuple[Sent, ...]
    error: str | None = None
    text: str = ""  # the final reply, kept so a redelivered update resends it as it was
    cost: int = 0  # credits (billing/money.py)
    charge: Posting | None = None  # its ledger posting, written with the turn
