"""What a tool gets to work with: who invoked it, where, and the clients it may use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import httpx


@dataclass(frozen=True, slots=True)
class Note:
    """A note saved in one chat."""

    id: int
    text: str
    author: str


class Notes(Protocol):
    """Chat-scoped notes; a tool can only reach the invoking chat's notes."""

    async def add(self, chat_id: int, *, author_id: int, author: str, text: str) -> Note: ...

    async def find(self, chat_id: int, query: str, *, limit: int = 10) -> list[Note]: ...


@dataclass(frozen=True, slots=True)
class ToolSettings:
    """Endpoints and limits of the built-in tools (from Settings; tests point them at fakes)."""

    geocoding_url: str = "https://geocoding-api.open-meteo.com/v1/search"
    forecast_url: str = "https://api.open-meteo.com/v1/forecast"
    searxng_url: str | None = None  # e.g. https://searx.example.org; web search is off without it
    page_max_bytes: int = 2_000_000
    page_max_chars: int = 12_000
    request_timeout: float = 15.0
    # Networks page reading may reach even though they are private (self-hosted setups, tests).
    allowed_private_networks: tuple[str, ...] = ()


@dataclass(slots=True)
class ToolDeps:
    """Passed to every tool call: the invoking person and chat, and shared clients."""

    user_id: int
    user_name: str
    chat_id: int
    thread_id: int
    is_chat_admin: bool
    is_bot_admin: bool
    http: httpx.AsyncClient
    notes: Notes
    settings: ToolSettings = field(default_factory=ToolSettings)
    # Show the user what is happening ("searching the web…"); set by the turn.
    status: Callable[[str], Awaitable[None]] | None = None
