"""PreferencesStore on SQL: one row per chat that changed anything."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from magpie.conversation.types import Preferences
from magpie.storage.database import Database, insert_for
from magpie.storage.tables import ChatSettingsRow


class SqlPreferences:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, chat_id: int) -> Preferences:
        async with self.db.read() as session:
            row = await session.get(ChatSettingsRow, chat_id)
        if row is None:
            return Preferences()
        return Preferences(
            model=row.model,
            persona=row.persona,
            disabled_tools=frozenset(json.loads(row.disabled_tools or "[]")),
        )

    async def _upsert(self, chat_id: int, values: dict[str, Any]) -> None:
        async with self.db.write() as session:
            await session.execute(
                insert_for(session, ChatSettingsRow)
                .values(chat_id=chat_id, **values)
                .on_conflict_do_update(
                    index_elements=["chat_id"], set_={**values, "updated_at": func.now()}
                )
            )

    async def set_model(self, chat_id: int, model: str | None) -> None:
        await self._upsert(chat_id, {"model": model})

    async def set_persona(self, chat_id: int, persona: str | None) -> None:
        await self._upsert(chat_id, {"persona": persona})

    async def set_tool(self, chat_id: int, tool: str, *, enabled: bool) -> None:
        async with self.db.read() as session:
            current = await session.scalar(
                select(ChatSettingsRow.disabled_tools).where(ChatSettingsRow.chat_id == chat_id)
            )
        disabled = set(json.loads(current or "[]"))
        disabled = disabled - {tool} if enabled else disabled | {tool}
        await self._upsert(chat_id, {"disabled_tools": json.dumps(sorted(disabled))})
