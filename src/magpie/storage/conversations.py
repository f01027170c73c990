"""ConversationStore on SQL: messages, conversations and turns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import bindparam, exists, func, select, update

from magpie.conversation.types import (
    Addressing,
    ChatType,
    ConversationKey,
    Incoming,
    Line,
    Speaker,
    TurnRecord,
)
from magpie.storage.database import Database
from magpie.storage.tables import (
    ChatRow,
    ConversationRow,
    MessageRow,
    TurnRow,
    UserRow,
    table,
)

MESSAGES, TURNS, USERS = table(MessageRow), table(TurnRow), table(UserRow)
CONVERSATIONS = table(ConversationRow)

# Statements a turn runs, built once: building and keying a statement costs more than running it.
_HISTORY = (
    select(
        MESSAGES.c.message_id,
        MESSAGES.c.text,
        MESSAGES.c.outgoing,
        USERS.c.first_name,
        USERS.c.last_name,
    )
    .outerjoin(USERS, USERS.c.id == MESSAGES.c.sender_id)
    .where(
        MESSAGES.c.chat_id == bindparam("chat_id"),
        MESSAGES.c.thread_id == bindparam("thread_id"),
        MESSAGES.c.id
        > func.coalesce(
            select(CONVERSATIONS.c.history_starts_after)
            .where(
                CONVERSATIONS.c.chat_id == bindparam("chat_id"),
                CONVERSATIONS.c.thread_id == bindparam("thread_id"),
            )
            .scalar_subquery(),
            0,
        ),
    )
    .order_by(MESSAGES.c.id.desc())
    .limit(bindparam("limit"))
)
_NEW_TURN = TURNS.insert().returning(TURNS.c.id)


def _name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part) or "someone"


class SqlConversationStore:
    """Each method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._new_message = db.insert(MESSAGES).on_conflict_do_nothing(
            index_elements=["chat_id", "message_id"]
        )

    async def save_incoming(self, message: Incoming) -> bool:
        async with self.db.write() as connection:
            result = await connection.execute(
                self._new_message,
                {
                    "chat_id": message.key.chat_id,
                    "thread_id": message.key.thread_id,
                    "message_id": message.message_id,
                    "sender_id": message.speaker.id,
                    "outgoing": False,
                    "kind": message.kind,
                    "text": message.text,
                    "reply_to_message_id": message.reply_to_message_id,
                    "sent_at": message.sent_at,
                },
            )
            return bool(result.rowcount)

    async def answered(self, key: ConversationKey, message_id: int) -> bool:
        async with self.db.read() as connection:
            found = await connection.scalar(
                select(
                    exists().where(
                        TurnRow.chat_id == key.chat_id,
                        TurnRow.thread_id == key.thread_id,
                        TurnRow.trigger_message_id == message_id,
                    )
                )
            )
        return bool(found)

    async def save_edit(self, message: Incoming) -> None:
        async with self.db.write() as connection:
            await connection.execute(
                update(MessageRow)
                .where(
                    MessageRow.chat_id == message.key.chat_id,
                    MessageRow.message_id == message.message_id,
                    MessageRow.outgoing.is_(False),
                )
                .values(text=message.text, edited_at=datetime.now(UTC))
            )

    async def history(self, key: ConversationKey, *, limit: int) -> list[Line]:
        async with self.db.read() as connection:
            rows = await connection.execute(
                _HISTORY, {"chat_id": key.chat_id, "thread_id": key.thread_id, "limit": limit}
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
        async with self.db.write() as connection:
            newest = await connection.scalar(
                select(func.max(MessageRow.id)).where(MessageRow.chat_id == key.chat_id)
            )
            await connection.execute(
                self.db.insert(ConversationRow)
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
        async with self.db.read() as connection:
            chat_type = await connection.scalar(
                select(ChatRow.type).where(ChatRow.id == key.chat_id)
            )
            if chat_type is None:
                return None
            query = (
                select(MessageRow, UserRow.first_name, UserRow.last_name, UserRow.username)
                .outerjoin(UserRow, UserRow.id == MessageRow.sender_id)
                .where(
                    MessageRow.chat_id == key.chat_id,
                    MessageRow.thread_id == key.thread_id,
                    MessageRow.outgoing.is_(False),
                )
            )
            if chat_type != "private":
                answered = select(TurnRow.trigger_message_id).where(
                    TurnRow.chat_id == key.chat_id, TurnRow.thread_id == key.thread_id
                )
                query = query.where(MessageRow.message_id.in_(answered))
            row = (await connection.execute(query.order_by(MessageRow.id.desc()).limit(1))).first()
        if row is None:
            return None
        return Incoming(
            key=key,
            message_id=row.message_id,
            chat_type=cast(ChatType, chat_type),
            speaker=Speaker(row.sender_id or 0, _name(row.first_name, row.last_name), row.username),
            text=row.text,
            sent_at=row.sent_at,
            kind=row.kind,
            reply_to_message_id=row.reply_to_message_id,
            addressing=Addressing(),
        )

    async def save_turn(self, turn: TurnRecord) -> None:
        async with self.db.write() as connection:
            turn_id = await connection.scalar(
                _NEW_TURN,
                {
                    "chat_id": turn.key.chat_id,
                    "thread_id": turn.key.thread_id,
                    "trigger_message_id": turn.trigger_message_id,
                    "model": turn.model,
                    "tokens_in": turn.tokens_in,
                    "tokens_out": turn.tokens_out,
                    "latency_ms": turn.latency_ms,
                    "outcome": turn.outcome.value,
                    "error": turn.error,
                },
            )
            if not turn.sent:
                return
            now = datetime.now(UTC)
            await connection.execute(
                self._new_message,
                [
                    {
                        "chat_id": turn.key.chat_id,
                        "thread_id": turn.key.thread_id,
                        "message_id": sent.message_id,
                        "sender_id": None,
                        "outgoing": True,
                        "kind": "text",
                        "text": sent.text,
                        "reply_to_message_id": None,
                        "sent_at": now,
                        "turn_id": turn_id,
                    }
                    for sent in turn.sent
                ],
            )
