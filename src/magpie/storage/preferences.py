"""PreferencesStore on SQL: one row per chat that changed anything."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
from sqlalchemy import bindparam, func, select

from magpie.conversation.types import Preferences
from magpie.storage.database import Database
from magpie.storage.tables import ChatSettingsRow, table

SETTINGS = table(ChatSettingsRow)
_GET = select(SETTINGS.c.model, SETTINGS.c.persona, SETTINGS.c.disabled_tools).where(
    SETTINGS.c.chat_id == bindparam("chat_id")
)


class SqlPreferences:
    """Read on every turn and changed rarely, so remembered for `ttl` seconds: a change made
    through this store is seen at once, one made elsewhere (another process) within `ttl`."""

    def __init__(
        self,
        db: Database,
        *,
        ttl: float = 10.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self._known: TTLCache[int, Preferences] = TTLCache(size, ttl, timer=clock)
        self._changes = 0  # a read that raced any change is not remembered

    async def get(self, chat_id: int) -> Preferences:
        known = self._known.get(chat_id)
        if known is not None:
            return known
        changes = self._changes
        async with self.db.read() as connection:
            row = (await connection.execute(_GET, {"chat_id": chat_id})).first()
        preferences = (
            Preferences()
            if row is None
            else Preferences(
                model=row.model,
                persona=row.persona,
                disabled_tools=frozenset(json.loads(row.disabled_tools or "[]")),
            )
        )
        if self._changes == changes:
            self._known[chat_id] = preferences
        return preferences

    async def _upsert(self, chat_id: int, values: dict[str, Any]) -> None:
        async with self.db.write() as connection:
            await connection.execute(
                self.db.insert(ChatSettingsRow)
                .values(chat_id=chat_id, **values)
                .on_conflict_do_update(
                    index_elements=["chat_id"], set_={**values, "updated_at": func.now()}
                )
            )
        self._changes += 1
        self._known.pop(chat_id, None)

    async def set_model(self, chat_id: int, model: str | None) -> None:
        await self._upsert(chat_id, {"model": model})

    async def set_persona(self, chat_id: int, persona: str | None) -> None:
        await self._upsert(chat_id, {"persona": persona})

    async def set_tool(self, chat_id: int, tool: str, *, enabled: bool) -> None:
        async with self.db.read() as connection:
            current = await connection.scalar(
                select(ChatSettingsRow.disabled_tools).where(ChatSettingsRow.chat_id == chat_id)
            )
        disabled = set(json.loads(current or "[]"))
        disabled = disabled - {tool} if enabled else disabled | {tool}
        await self._upsert(chat_id, {"disabled_tools": json.dumps(sorted(disabled))})
