"""ConversationStore on SQL: messages, conversations and turns."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from magpie.conversation.types import (
    Addressing,
    ConversationKey,
    Incoming,
    Line,
    Speaker,
    TurnRecord,
)
from magpie.storage.database import Database, insert_for
from magpie.storage.tables import ChatRow, ConversationRow, MessageRow, TurnRow, UserRow


def _name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part) or "someone"


class SqlConversationStore:
    """Each method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def save_incoming(self, message: Incoming) -> None:
        async with self.db.write() as session:
            await session.execute(
                insert_for(session, MessageRow)
                .values(
                    chat_id=message.key.chat_id,
                    thread_id=message.key.thread_id,
                    message_id=message.message_id,
                    sender_id=message.speaker.id,
                    outgoing=False,
                    kind=message.kind,
                    text=message.text,
                    reply_to_message_id=message.reply_to_message_id,
                    sent_at=message.sent_at,
                )
                .on_conflict_do_nothing(index_elements=["chat_id", "message_id"])
            )

    async def save_edit(self, message: Incoming) -> None:
        async with self.db.write() as session:
            await session.execute(
                update(MessageRow)
                .where(
                    MessageRow.chat_id == message.key.chat_id,
                    MessageRow.message_id == message.message_id,
                    MessageRow.outgoing.is_(False),
                )
                .values(text=message.text, edited_at=datetime.now(UTC))
            )

    async def _starts_after(self, session: AsyncSession, key: ConversationKey) -> int:
        mark = await session.scalar(
            select(ConversationRow.history_starts_after).where(
                ConversationRow.chat_id == key.chat_id, ConversationRow.thread_id == key.thread_id
            )
        )
        return mark or 0

    async def history(self, key: ConversationKey, *, limit: int) -> list[Line]:
        async with self.db.read() as session:
            starts_after = await self._starts_after(session, key)
            rows = await session.execute(
                select(
                    MessageRow.message_id,
                    MessageRow.text,
                    MessageRow.outgoing,
                    UserRow.first_name,
                    UserRow.last_name,
                )
                .outerjoin(UserRow, UserRow.id == MessageRow.sender_id)
                .where(
                    MessageRow.chat_id == key.chat_id,
                    MessageRow.thread_id == key.thread_id,
                    MessageRow.id > starts_after,
                )
                .order_by(MessageRow.id.desc())
                .limit(limit)
            )
            lines = [
                Line(
                    message_id=row.message_id,
                    speaker="assistant" if row.outgoing else _name(row.first_name, row.last_name),
                    text=row.text,
                    from_assistant=row.outgoing,
                )
                for row in rows
            ]
        lines.reverse()
        return lines

    async def start_fresh(self, key: ConversationKey) -> None:
        async with self.db.write() as session:
            newest = await session.scalar(
                select(func.max(MessageRow.id)).where(MessageRow.chat_id == key.chat_id)
            )
            await session.execute(
                insert_for(session, ConversationRow)
                .values(
                    chat_id=key.chat_id, thread_id=key.thread_id, history_starts_after=newest or 0
                )
                .on_conflict_do_update(
                    index_elements=["chat_id", "thread_id"],
                    set_={"history_starts_after": newest or 0},
                )
            )

    async def last_prompt(self, key: ConversationKey) -> Incoming | None:
        """The message the last turn answered; in private chats, simply the last message."""
        async with self.db.read() as session:
            chat_type = await session.scalar(select(ChatRow.type).where(ChatRow.id == key.chat_id))
            if chat_type is None:
                return None
            query = select(MessageRow).where(
                MessageRow.chat_id == key.chat_id,
                MessageRow.thread_id == key.thread_id,
                MessageRow.outgoing.is_(False),
            )
            if chat_type != "private":
                answered = select(TurnRow.trigger_message_id).where(
                    TurnRow.chat_id == key.chat_id, TurnRow.thread_id == key.thread_id
                )
                query = query.where(MessageRow.message_id.in_(answered))
            row = await session.scalar(query.order_by(MessageRow.id.desc()).limit(1))
            if row is None:
                return None
            user = await session.get(UserRow, row.sender_id) if row.sender_id else None
        name = " ".join(p for p in (user.first_name, user.last_name) if p) if user else "someone"
        return Incoming(
            key=key,
            message_id=row.message_id,
            chat_type=chat_type,  # type: ignore[arg-type]
            speaker=Speaker(row.sender_id or 0, name, user.username if user else None),
            text=row.text,
            sent_at=row.sent_at,
            kind=row.kind,
            reply_to_message_id=row.reply_to_message_id,
            addressing=Addressing(),
        )

    async def save_turn(self, turn: TurnRecord) -> None:
        async with self.db.write() as session:
            row = TurnRow(
                chat_id=turn.key.chat_id,
                thread_id=turn.key.thread_id,
                trigger_message_id=turn.trigger_message_id,
                model=turn.model,
                tokens_in=turn.tokens_in,
                tokens_out=turn.tokens_out,
                latency_ms=turn.latency_ms,
                outcome=turn.outcome.value,
                error=turn.error,
            )
            session.add(row)
            await session.flush()
            now = datetime.now(UTC)
            for sent in turn.sent:
                await session.execute(
                    insert_for(session, MessageRow)
                    .values(
                        chat_id=turn.key.chat_id,
                        thread_id=turn.key.thread_id,
                        message_id=sent.message_id,
                        sender_id=None,
                        outgoing=True,
                        kind="text",
                        text=sent.text,
                        turn_id=row.id,
                        sent_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["chat_id", "message_id"])
                )
