"""The tools of one turn, as pydantic-ai sees them: filtered, guarded, bound to the caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from pydantic_ai import RunContext, Tool

from magpie.conversation.types import Caller
from magpie.tools.deps import Notes, ToolDeps, ToolSettings
from magpie.tools.guard import CallLog, Confirmer, run_tool
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
        confirmer: Confirmer,
        calls: CallLog,
    ) -> None:
        self.specs: dict[str, ToolSpec] = {}
        self._tools: dict[str, Tool[ToolDeps]] = {}
        self.add(specs)
        self.http = http
        self.notes = notes
        self.settings = settings
        self.confirmer = confirmer
        self.calls = calls

    def add(self, specs: Sequence[ToolSpec]) -> None:
        for spec in specs:
            self.specs[spec.name] = spec
            self._tools[spec.name] = self._as_pydantic(spec)  # built once; the caller is in deps

    @property
    def names(self) -> list[str]:
        return sorted(self.specs)

    def for_turn(
        self,
        caller: Caller,
        *,
        disabled: frozenset[str] = frozenset(),
        status: Callable[[str], Awaitable[None]] | None = None,
    ) -> tuple[list[Tool[ToolDeps]], ToolDeps]:
        """The pydantic-ai tools enabled in this chat, and the deps they will receive."""
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
        tools = [tool for name, tool in self._tools.items() if name not in disabled]
        return tools, deps

    def _as_pydantic(self, spec: ToolSpec) -> Tool[ToolDeps]:
        async def call(ctx: RunContext[ToolDeps], **arguments: Any) -> str:
            return await run_tool(
                spec, ctx.deps, arguments, confirmer=self.confirmer, calls=self.calls
            )

        return Tool.from_schema(
            call,
            name=spec.name,
            description=spec.description,
            json_schema=spec.parameters or {"type": "object", "properties": {}},
            takes_ctx=True,
        )
