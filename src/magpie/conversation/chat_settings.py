"""The rules of /tools, /model and /persona: who may change a chat's choices, within what limits.

In a private chat the person decides; in a group, its admins (and the bot's operators). The
handlers in telegram/routers/settings.py parse, call one method here and render the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from magpie.conversation.ports import PreferencesStore

PERSONA_LIMIT = 2000  # characters


class Admins(Protocol):
    """Who administers a chat (a private chat belongs to its person); `fresh` asks anew."""

    async def is_admin(self, chat_id: int, user_id: int, *, fresh: bool = False) -> bool: ...


class ToolCall(Protocol):
    """One entry of the tool call log, as admins see it."""

    @property
    def tool(self) -> str: ...

    @property
    def outcome(self) -> str: ...

    @property
    def duration_ms(self) -> int: ...


class CallLog(Protocol):
    async def recent(self, chat_id: int, *, limit: int = 10) -> Sequence[ToolCall]: ...


class Change(StrEnum):
    """What a request to change a chat's choice led to."""

    DONE = "done"
    RESET = "reset"
    REFUSED = "refused"  # not this person's to change
    UNKNOWN = "unknown"  # no such tool or model (an old button)


@dataclass(frozen=True, slots=True)
class ToolsView:
    """The chat's tools as one person sees them."""

    names: tuple[str, ...]
    disabled: frozenset[str]
    may_change: bool
    recent: tuple[ToolCall, ...] = ()  # the latest calls, for those who may change them

    @property
    def enabled(self) -> list[str]:
        return [name for name in self.names if name not in self.disabled]


class ChatSettings:
    """Reads and changes the per-chat model, persona and tools."""

    def __init__(
        self,
        preferences: PreferencesStore,
        admins: Admins,
        calls: CallLog,
        *,
        bot_admins: frozenset[int],
        tools: Sequence[str],
        models: Sequence[str],
        persona: str,
    ) -> None:
        self.preferences = preferences
        self.admins = admins
        self.calls = calls
        self.bot_admins = bot_admins
        self.tool_names = tuple(sorted(tools))
        self.models = tuple(models)
        self.default_persona = persona

    async def may_configure(self, chat_id: int, user_id: int, *, fresh: bool = False) -> bool:
        """Changes ask afresh: rights taken away a moment ago must not still count."""
        if user_id in self.bot_admins:
            return True
        return await self.admins.is_admin(chat_id, user_id, fresh=fresh)

    async def tools(self, chat_id: int, user_id: int, *, recent: int = 0) -> ToolsView:
        """The tools; with `recent`, that many latest calls too (for those who may change)."""
        current = await self.preferences.get(chat_id)
        may = await self.may_configure(chat_id, user_id)
        calls = tuple(await self.calls.recent(chat_id, limit=recent)) if may and recent else ()
        return ToolsView(self.tool_names, current.disabled_tools, may, calls)

    async def toggle_tool(self, chat_id: int, user_id: int, name: str) -> tuple[Change, ToolsView]:
        """Switch a tool on if it was off, off if it was on."""
        if name not in self.tool_names:
            return Change.UNKNOWN, await self.tools(chat_id, user_id)
        may = await self.may_configure(chat_id, user_id, fresh=True)
        disabled = (await self.preferences.get(chat_id)).disabled_tools
        if may:
            await self.preferences.set_tool(chat_id, name, enabled=name in disabled)
            disabled = (await self.preferences.get(chat_id)).disabled_tools
        view = ToolsView(self.tool_names, disabled, may)
        return (Change.DONE if may else Change.REFUSED), view

    async def model(self, chat_id: int) -> str:
        """The chat's model: its choice if that is still offered, else the default."""
        chosen = (await self.preferences.get(chat_id)).model
        return chosen if chosen in self.models else self.models[0]

    async def choose_model(self, chat_id: int, user_id: int, label: str) -> Change:
        if label not in self.models:
            return Change.UNKNOWN
        if not await self.may_configure(chat_id, user_id, fresh=True):
            return Change.REFUSED
        await self.preferences.set_model(chat_id, label)
        return Change.DONE

    async def persona(self, chat_id: int) -> str:
        return (await self.preferences.get(chat_id)).persona or self.default_persona

    async def set_persona(self, chat_id: int, user_id: int, text: str) -> Change:
        """A new persona (cut to PERSONA_LIMIT), or "reset" for the default."""
        if not await self.may_configure(chat_id, user_id, fresh=True):
            return Change.REFUSED
        if text.strip().lower() == "reset":
            await self.preferences.set_persona(chat_id, None)
            return Change.RESET
        await self.preferences.set_persona(chat_id, text.strip()[:PERSONA_LIMIT])
        return Change.DONE
