"""ConversationStore on SQL: messages, conversations and turns.

Messages and turns are written by group commit (storage/group_commit.py): whatever the turns of
all chats have to write while a transaction runs goes into the next one, as one statement per
table. Each caller still returns only once its own rows are committed.

A turn is written twice: with its reply before the reply is sent (`begin_turn`: the message it
answers, the turn as `delivering`, the text), and once it is out (`finish_turn`: the outcome and
the messages it ended in). A crash between the two leaves a `delivering` turn, which tells a
redelivered update to send that same text again instead of asking the model anew (ADR 12).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import bindparam, func, select, update
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from magpie.conversation.types import (
    Addressing,
    ChatType,
    ConversationKey,
    Incoming,
    Line,
    Outcome,
    Sent,
    Speaker,
    TurnRecord,
)
from magpie.storage.database import Database
from magpie.storage.group_commit import GroupCommit
from magpie.storage.ledger import write_postings
from magpie.storage.outages import database_unavailable
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
_NEW_TURNS = TURNS.insert()
# The turn being finished, and the one a reply belongs to: the newest for its message (per-
# conversation order keeps two turns of one conversation out of one batch).
_NEWEST_TURN = (
    select(TURNS.c.id)
    .where(
        TURNS.c.chat_id == bindparam("turn_chat_id"),
        TURNS.c.thread_id == bindparam("turn_thread_id"),
        TURNS.c.trigger_message_id == bindparam("turn_trigger_message_id"),
    )
    .order_by(TURNS.c.id.desc())
    .limit(1)
    .scalar_subquery()
)
_FINISH_TURN = (
    TURNS.update()
    .where(TURNS.c.id == _NEWEST_TURN)
    .values(
        outcome=bindparam("new_outcome"),
        error=bindparam("new_error"),
        latency_ms=bindparam("new_latency_ms"),
    )
)
_RECORDED = (
    select(TURNS)
    .where(
        TURNS.c.chat_id == bindparam("chat_id"),
        TURNS.c.thread_id == bindparam("thread_id"),
        TURNS.c.trigger_message_id == bindparam("message_id"),
    )
    .order_by(TURNS.c.id.desc())
    .limit(1)
)


@dataclass(frozen=True, slots=True)
class _Write:
    """One caller's rows: a message alone, a turn begun (with the message it answers), or a
    turn finished (with the messages it ended in)."""

    asked: Incoming | None
    begun: TurnRecord | None = None
    finished: TurnRecord | None = None


def _name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part) or "someone"


def _message_row(
    key: ConversationKey,
    message_id: int,
    *,
    text: str,
    sent_at: datetime,
    outgoing: bool,
    sender_id: int | None = None,
    kind: str = "text",
    reply_to_message_id: int | None = None,
) -> dict[str, object]:
    return {
        "chat_id": key.chat_id,
        "thread_id": key.thread_id,
        "message_id": message_id,
        "sender_id": sender_id,
        "outgoing": outgoing,
        "kind": kind,
        "text": text,
        "reply_to_message_id": reply_to_message_id,
        "sent_at": sent_at,
    }


def _incoming_row(message: Incoming) -> dict[str, object]:
    return _message_row(
        message.key,
        message.message_id,
        text=message.text,
        sent_at=message.sent_at,
        outgoing=False,
        sender_id=message.speaker.id,
        kind=message.kind,
        reply_to_message_id=message.reply_to_message_id,
    )


def _reply_row(turn: TurnRecord, sent: Sent, now: datetime) -> dict[str, object]:
    """An outgoing message, with what `_NEWEST_TURN` needs to find its turn."""
    return _message_row(turn.key, sent.message_id, text=sent.text, sent_at=now, outgoing=True) | {
        "turn_chat_id": turn.key.chat_id,
        "turn_thread_id": turn.key.thread_id,
        "turn_trigger_message_id": turn.trigger_message_id,
    }


def _turn_row(turn: TurnRecord) -> dict[str, object]:
    return {
        "chat_id": turn.key.chat_id,
        "thread_id": turn.key.thread_id,
        "trigger_message_id": turn.trigger_message_id,
        "model": turn.model,
        "tokens_in": turn.tokens_in,
        "tokens_out": turn.tokens_out,
        "latency_ms": turn.latency_ms,
        "outcome": turn.outcome.value,
        "error": turn.error,
        "reply": turn.text,
        "cost": turn.cost,
    }


def _finish_row(turn: TurnRecord) -> dict[str, object]:
    return {
        "turn_chat_id": turn.key.chat_id,
        "turn_thread_id": turn.key.thread_id,
        "turn_trigger_message_id": turn.trigger_message_id,
        "new_outcome": turn.outcome.value,
        "new_error": turn.error,
        "new_latency_ms": turn.latency_ms,
    }


class SqlConversationStore:
    """Each call is one short transaction; messages and turns share theirs with other chats'."""

    def __init__(
        self, db: Database, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        self.db = db
        self.sleep = sleep
        self._new_messages = db.insert(MESSAGES).on_conflict_do_nothing(
            index_elements=["chat_id", "message_id"]
        )
        self._new_replies = self._new_messages.values(turn_id=_NEWEST_TURN)
        self._writes = GroupCommit(self._write)

    async def close(self) -> None:
        await self._writes.close()

    async def save_incoming(self, message: Incoming) -> None:
        await self._writes.submit(_Write(asked=message))

    async def begin_turn(self, turn: TurnRecord, *, asked: Incoming | None = None) -> None:
        await self._writes.submit(_Write(asked=asked, begun=turn))

    async def finish_turn(self, turn: TurnRecord) -> None:
        """The reply is out: a database away now is waited out here (about half a minute),
        since trying the update again later would send the reply a second time."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(database_unavailable),
            wait=wait_exponential(multiplier=0.5, max=8),
            stop=stop_after_attempt(8),
            sleep=self.sleep,
            reraise=True,
        ):
            with attempt:
                await self._writes.submit(_Write(asked=None, finished=turn))

    async def _write(self, writes: list[_Write]) -> None:
        """One transaction for many callers' rows: messages asked, turns begun, turns finished
        and their replies."""
        asked = [_incoming_row(w.asked) for w in writes if w.asked is not None]
        begun = [_turn_row(w.begun) for w in writes if w.begun is not None]
        charges = [w.begun.charge for w in writes if w.begun and w.begun.charge is not None]
        finished = [w.finished for w in writes if w.finished is not None]
        now = datetime.now(UTC)
        replies = [_reply_row(turn, sent, now) for turn in finished for sent in turn.sent]
        async with self.db.write() as connection:
            if asked:
                await connection.execute(self._new_messages, asked)
            if begun:
                await connection.execute(_NEW_TURNS, begun)
            if charges:  # each turn's charge commits with the turn, or neither does
                await write_postings(connection, self.db, charges)
            if finished:
                await connection.execute(_FINISH_TURN, [_finish_row(t) for t in finished])
            if replies:
                await connection.execute(self._new_replies, replies)

    async def recorded(self, key: ConversationKey, message_id: int) -> TurnRecord | None:
        async with self.db.read() as connection:
            row = (
                await connection.execute(
                    _RECORDED,
                    {"chat_id": key.chat_id, "thread_id": key.thread_id, "message_id": message_id},
                )
            ).first()
        if row is None:
            return None
        return TurnRecord(
            key=key,
            trigger_message_id=row.trigger_message_id,
            model=row.model,
            outcome=Outcome(row.outcome),
            tokens_in=row.tokens_in,
            tokens_out=row.tokens_out,
            latency_ms=row.latency_ms,
            sent=(),
            error=row.error,
            text=row.reply or "",
            cost=row.cost,
        )

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

    async def revise_reply(self, key: ConversationKey, message_id: int, text: str) -> None:
        async with self.db.write() as connection:
            await connection.execute(
                update(MessageRow)
                .where(
                    MessageRow.chat_id == key.chat_id,
                    MessageRow.message_id == message_id,
                    MessageRow.outgoing.is_(True),
                )
                .values(text=text, edited_at=datetime.now(UTC))
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
        """The message the last turn answered; in private chats, simply the last message;
        nothing from before /new."""
        async with self.db.read() as connection:
            chat_type = await connection.scalar(
                select(ChatRow.type).where(ChatRow.id == key.chat_id)
            )
            if chat_type is None:
                return None
            fresh_from = select(ConversationRow.history_starts_after).where(
                ConversationRow.chat_id == key.chat_id, ConversationRow.thread_id == key.thread_id
            )
            query = (
                select(MessageRow, UserRow.first_name, UserRow.last_name, UserRow.username)
                .outerjoin(UserRow, UserRow.id == MessageRow.sender_id)
                .where(
                    MessageRow.chat_id == key.chat_id,
                    MessageRow.thread_id == key.thread_id,
                    MessageRow.outgoing.is_(False),
                    MessageRow.id > func.coalesce(fresh_from.scalar_subquery(), 0),  # after /new
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
