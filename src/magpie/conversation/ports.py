"""What the conversation needs from the outside world, as small Protocols.

storage/ implements ConversationStore, llm/ implements Model, telegram/ implements ReplyChannel;
tests use the in-memory twins in conversation/memory.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from magpie.conversation.types import (
    Caller,
    Completion,
    ConversationKey,
    Incoming,
    Line,
    Preferences,
    Prompt,
    TurnRecord,
)

TextSink = Callable[[str], Awaitable[None]]


class ConversationStore(Protocol):
    """Remembers messages and turns; each call is its own short transaction."""

    async def save_incoming(self, message: Incoming) -> None:
        """Remember a message (once, however often it is saved)."""
        ...

    async def answered(self, key: ConversationKey, message_id: int) -> bool:
        """Whether a turn was already recorded for this message."""
        ...

    async def history(self, key: ConversationKey, *, limit: int) -> list[Line]: ...

    async def save_edit(self, message: Incoming) -> None: ...

    async def start_fresh(self, key: ConversationKey) -> None: ...

    async def last_prompt(self, key: ConversationKey) -> Incoming | None: ...

    async def save_turn(self, turn: TurnRecord, *, asked: Incoming | None = None) -> None:
        """Remember a turn and its replies, and the message it answered, all at once."""
        ...


class Model(Protocol):
    """A language model that streams (`on_text` gets the text so far) and may use tools
    for `caller` (`on_status` gets what is happening, e.g. "searching the web…")."""

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


class PreferencesStore(Protocol):
    """Per-chat choices, changed by /model, /persona and /tools."""

    async def get(self, chat_id: int) -> Preferences: ...

    async def set_model(self, chat_id: int, model: str | None) -> None: ...

    async def set_persona(self, chat_id: int, persona: str | None) -> None: ...

    async def set_tool(self, chat_id: int, tool: str, *, enabled: bool) -> None: ...


class ReplyChannel(Protocol):
    """Where a reply goes while it is written and when it is done."""

    async def thinking(self) -> None: ...

    async def progress(self, text: str) -> None: ...

    async def status(self, text: str) -> None: ...

    async def finish(self, text: str) -> list[tuple[int, str]]: ...
