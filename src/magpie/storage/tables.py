"""The database schema as SQLAlchemy 2 typed mappings; Alembic migrations are made from it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite would drop the offset and return naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for Telegram ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table(model: type[Base]) -> Table:
    """The Core table behind a mapping, for statements built once (no ORM on the hot path)."""
    return cast(Table, model.__table__)


class Stamped:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class UserRow(Stamped, Base):
    """A Telegram account Magpie has seen."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(256))
    last_name: Mapped[str | None] = mapped_column(String(256))
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(16))
    is_bot: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), server_default=func.now(), onupdate=func.now()
    )


class ChatRow(Stamped, Base):
    """A private chat, group, supergroup or channel."""

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(256))
    username: Mapped[str | None] = mapped_column(String(64))
    is_forum: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), server_default=func.now(), onupdate=func.now()
    )


class TopicRow(Stamped, Base):
    """A forum topic; each is its own conversation."""

    __tablename__ = "topics"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str | None] = mapped_column(String(256))


class ConversationRow(Base):
    """One conversation: a chat, or a topic of a forum; /new moves its starting point."""

    __tablename__ = "conversations"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    history_starts_after: Mapped[int] = mapped_column(BigInteger, default=0)


class MessageRow(Base):
    """A message in either direction; text as the model will see it."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id"),
        Index("ix_messages_conversation", "chat_id", "thread_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"))
    thread_id: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[int] = mapped_column(BigInteger)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outgoing: Mapped[bool] = mapped_column(default=False)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    reply_to_message_id: Mapped[int | None] = mapped_column(BigInteger)
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turns.id"))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TurnRow(Stamped, Base):
    """One assistant turn: which model, how many tokens, how long, how it ended."""

    __tablename__ = "turns"
    __table_args__ = (
        Index("ix_turns_trigger", "chat_id", "thread_id", "trigger_message_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"))
    thread_id: Mapped[int] = mapped_column(Integer, default=0)
    trigger_message_id: Mapped[int | None] = mapped_column(BigInteger)
    model: Mapped[str] = mapped_column(String(128))
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    reply: Mapped[str | None] = mapped_column(Text)  # the final text, recorded before it is sent
    cost: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0"
    )  # credits (billing/money.py)


class InboxRow(Base):
    """Every update, recorded before it is acknowledged; handled once by update_id."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_status", "status", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    error: Mapped[str | None] = mapped_column(Text)


class ChatSettingsRow(Base):
    """Per-chat choices: model (/model), persona (/persona), tools switched off (/tools)."""

    __tablename__ = "chat_settings"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"), primary_key=True)
    model: Mapped[str | None] = mapped_column(String(128))
    persona: Mapped[str | None] = mapped_column(Text)
    disabled_tools: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of names
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), server_default=func.now(), onupdate=func.now()
    )


class NoteRow(Stamped, Base):
    """A note the model saved for a chat (the notes tool)."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_chat", "chat_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"))
    author_id: Mapped[int] = mapped_column(BigInteger)
    author: Mapped[str] = mapped_column(String(256))
    text: Mapped[str] = mapped_column(Text)


class ToolCallRow(Stamped, Base):
    """One tool call: which tool, with what, how it ended (for admins and audits)."""

    __tablename__ = "tool_calls"
    __table_args__ = (Index("ix_tool_calls_chat", "chat_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    tool: Mapped[str] = mapped_column(String(128))
    arguments: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    result_chars: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class ApprovalRow(Stamped, Base):
    """A question about one tool call, and the paused run it resumes once answered."""

    __tablename__ = "approvals"
    __table_args__ = (
        Index("ix_approvals_status", "status", "expires_at"),
        Index("ix_approvals_conversation", "chat_id", "thread_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int] = mapped_column(BigInteger)
    user_name: Mapped[str] = mapped_column(String(256))
    tool: Mapped[str] = mapped_column(String(128))
    arguments: Mapped[str] = mapped_column(Text)  # JSON object
    state: Mapped[str] = mapped_column(Text)  # the paused run (llm/steps.py), JSON
    model: Mapped[str] = mapped_column(String(128))
    trigger_message_id: Mapped[int] = mapped_column(BigInteger)
    question_message_id: Mapped[int | None] = mapped_column(BigInteger)
    question: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PostingRow(Base):
    """One balanced ledger posting (append-only; a correction is a reversal posting)."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        UniqueConstraint("reference"),
        UniqueConstraint("reverses"),
        Index("ix_ledger_postings_user", "user_id", "at"),
        Index("ix_ledger_postings_chat", "chat_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    memo: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    model: Mapped[str | None] = mapped_column(String(128))
    reference: Mapped[str | None] = mapped_column(String(160))
    reverses: Mapped[int | None] = mapped_column(ForeignKey("ledger_postings.id"))


class LedgerLineRow(Base):
    """One line of a posting: credits into (positive) or out of (negative) an account."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        Index("ix_ledger_lines_account", "account", "posting_id"),
        Index("ix_ledger_lines_posting", "posting_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("ledger_postings.id"))
    account: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)


class StarPaymentRow(Base):
    """A Telegram Stars payment, once per telegram_payment_charge_id (the primary key)."""

    __tablename__ = "star_payments"
    __table_args__ = (Index("ix_star_payments_user", "user_id", "paid_at"),)

    charge_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    stars: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(String(128))
    posting_id: Mapped[int] = mapped_column(ForeignKey("ledger_postings.id"))
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime())


class GroupPoolRow(Base):
    """How a group's sponsor pool is drawn on (billing/policy.py PoolMode)."""

    __tablename__ = "group_pools"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    mode: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), server_default=func.now(), onupdate=func.now()
    )
