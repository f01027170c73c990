"""The tool call log (CallLog on SQL), and the recent calls admins can look at."""

from __future__ import annotations

from sqlalchemy import insert, select

from magpie.storage.database import Database
from magpie.storage.tables import ToolCallRow
from magpie.tools.guard import ToolCallRecord


class SqlCallLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, call: ToolCallRecord) -> None:
        async with self.db.write() as connection:
            await connection.execute(
                insert(ToolCallRow).values(
                    chat_id=call.chat_id,
                    user_id=call.user_id,
                    tool=call.tool,
                    arguments=call.arguments,
                    outcome=call.outcome,
                    result_chars=call.result_chars,
                    duration_ms=call.duration_ms,
                    error=call.error,
                )
            )

    async def recent(self, chat_id: int, *, limit: int = 10) -> list[ToolCallRecord]:
        async with self.db.read() as connection:
            rows = await connection.execute(
                select(ToolCallRow)
                .where(ToolCallRow.chat_id == chat_id)
                .order_by(ToolCallRow.id.desc())
                .limit(limit)
            )
            return [
                ToolCallRecord(
                    r.chat_id,
                    r.user_id,
                    r.tool,
                    r.arguments,
                    r.outcome,
                    r.result_chars,
                    r.duration_ms,
                    r.error,
                )
                for r in rows
            ]
