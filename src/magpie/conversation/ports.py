"""What the conversation needs from the outside world, as small Protocols.

storage/ implements ConversationStore, llm/ implements Model, telegram/ implements ReplyChannel;
tests use the in-memory twins in conversation/memory.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from magpie.conversation.types import (
    Completion,
    ConversationKey,
    Incoming,
    Line,
    Prompt,
    TurnRecord,
)

TextSink = Callable[[str], Awaitable[None]]


class ConversationStore(Protocol):
    """Remembers messages and turns; each call is its own short transaction."""

    async def save_incoming(self, message: Incoming) -> None: ...

    async def history(self, key: ConversationKey, *, limit: int) -> list[Line]: ...

    async def save_edit(self, message: Incoming) -> None: ...

    async def start_fresh(self, key: ConversationKey) -> None: ...

    async def last_prompt(self, key: ConversationKey) -> Incoming | None: ...

    async def save_turn(self, turn: TurnRecord) -> None: ...


class Model(Protocol):
    """A language model that streams: `on_text` gets the text so far, as it grows."""

    @property
    def name(self) -> str: ...

    async def complete(self, prompt: Prompt, *, on_text: TextSink) -> Completion: ...


class ReplyChannel(Protocol):
    """Where a reply goes while it is written and when it is done."""

    async def thinking(self) -> None: ...

    async def progress(self, text: str) -> None: ...

    async def finish(self, text: str) -> list[tuple[int, str]]: ...
