"""The tools of one turn: filtered for the chat, bound to the caller, every call guarded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from magpie.conversation.types import Caller
from magpie.tools.deps import Notes, ToolDeps, ToolSettings
from magpie.tools.guard import AskFirst, CallLog, decline_tool, run_tool
from magpie.tools.spec import ToolSpec


class ToolBox:
    """Every tool Magpie has (built-in and from MCP servers) and what they share."""

    def __init__(
        self,
        specs: Sequence[ToolSpec],
        *,
        http: httpx.AsyncClient,
        notes: Notes,
        settings: ToolSettings,
        calls: CallLog,
    ) -> None:
        self.specs: dict[str, ToolSpec] = {}
        self.add(specs)
        self.http = http
        self.notes = notes
        self.settings = settings
        self.calls = calls

    def add(self, specs: Sequence[ToolSpec]) -> None:
        for spec in specs:
            self.specs[spec.name] = spec

    @property
    def names(self) -> list[str]:
        return sorted(self.specs)

    def for_turn(
        self,
        caller: Caller,
        *,
        disabled: frozenset[str] = frozenset(),
        status: Callable[[str], Awaitable[None]] | None = None,
    ) -> tuple[list[ToolSpec], ToolDeps]:
        """The tools enabled in this chat, and the deps their calls will receive."""
        deps = ToolDeps(
            user_id=caller.user_id,
            user_name=caller.name,
            chat_id=caller.chat_id,
            thread_id=caller.thread_id,
            is_chat_admin=caller.is_chat_admin,
            is_bot_admin=caller.is_bot_admin,
            http=self.http,
            notes=self.notes,
            settings=self.settings,
            status=status,
        )
        return [spec for name, spec in self.specs.items() if name not in disabled], deps

    async def call(
        self, name: str, deps: ToolDeps, arguments: Mapping[str, Any], *, approved: bool = False
    ) -> str | AskFirst:
        spec = self.specs.get(name)
        if spec is None:
            return f"There is no tool called {name!r}; use one of the tools you were given."
        return await run_tool(spec, deps, arguments, calls=self.calls, approved=approved)

    async def decline(self, name: str, deps: ToolDeps, arguments: Mapping[str, Any]) -> str:
        spec = self.specs.get(name)
        if spec is None:
            return f"There is no tool called {name!r}."
        return await decline_tool(spec, deps, arguments, calls=self.calls)
