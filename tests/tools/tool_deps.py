"""Building `ToolDeps` for tool tests: a caller in a chat, in-memory notes, recorded statuses."""

from __future__ import annotations

import socket
from dataclasses import replace

import httpx

from magpie.tools.builtin.notes import MemoryNotes
from magpie.tools.deps import Notes, ToolDeps, ToolSettings


class StatusLog:
    """The `status` callback a turn would pass, remembering what the tool announced."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    async def __call__(self, text: str) -> None:
        self.shown.append(text)


def make_deps(
    http: httpx.AsyncClient,
    *,
    settings: ToolSettings | None = None,
    notes: Notes | None = None,
    chat_id: int = -1001,
    user_id: int = 42,
    user_name: str = "Olena",
    status: StatusLog | None = None,
) -> ToolDeps:
    return ToolDeps(
        user_id=user_id,
        user_name=user_name,
        chat_id=chat_id,
        thread_id=0,
        is_chat_admin=False,
        is_bot_admin=False,
        http=http,
        notes=notes if notes is not None else MemoryNotes(),
        settings=settings if settings is not None else ToolSettings(),
        status=status,
    )


def in_chat(
    deps: ToolDeps, chat_id: int, *, user_id: int = 7, user_name: str = "Taras"
) -> ToolDeps:
    """The same bot (same notes store) seen from another chat and person."""
    return replace(deps, chat_id=chat_id, user_id=user_id, user_name=user_name)


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (bound and released), for "the service is down"."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
