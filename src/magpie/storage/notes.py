"""The notes tool's storage: chat-scoped, searched by words."""

from __future__ import annotations

from sqlalchemy import insert, select

from magpie.storage.database import Database
from magpie.storage.tables import NoteRow
from magpie.tools.deps import Note


class SqlNotes:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, chat_id: int, *, author_id: int, author: str, text: str) -> Note:
        async with self.db.write() as connection:
            note_id = await connection.scalar(
                insert(NoteRow)
                .values(chat_id=chat_id, author_id=author_id, author=author, text=text)
                .returning(NoteRow.id)
            )
        return Note(int(note_id or 0), text, author)

    async def find(self, chat_id: int, query: str, *, limit: int = 10) -> list[Note]:
        """Newest first; every word of the query must appear (case-insensitive)."""
        statement = select(NoteRow.id, NoteRow.text, NoteRow.author).where(
            NoteRow.chat_id == chat_id
        )
        for word in query.lower().split()[:8]:
            statement = statement.where(NoteRow.text.ilike(f"%{_escape(word)}%", escape="\\"))
        async with self.db.read() as connection:
            rows = await connection.execute(statement.order_by(NoteRow.id.desc()).limit(limit))
            return [Note(row.id, row.text, row.author) for row in rows]


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
