"""ApprovalStore on SQL: questions about tool calls, and the paused runs they resume.

A decision is one conditional UPDATE (`… WHERE status = 'pending'`), so of two presses, two
workers or a press racing the expiry sweep exactly one wins, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from magpie.conversation.types import (
    Approval,
    ApprovalStatus,
    ConversationKey,
    NewApproval,
    Parked,
)
from magpie.storage.database import Database
from magpie.storage.tables import ApprovalRow

_PENDING = ApprovalStatus.PENDING.value


def _approval(row: Row[Any]) -> Approval:
    return Approval(
        id=row.id,
        key=ConversationKey(row.chat_id, row.thread_id),
        user_id=row.user_id,
        user_name=row.user_name,
        parked=Parked(
            tool=row.tool, arguments=json.loads(row.arguments), state=row.state, model=row.model
        ),
        trigger_message_id=row.trigger_message_id,
        expires_at=row.expires_at,
        status=ApprovalStatus(row.status),
        question_message_id=row.question_message_id,
        question=row.question,
    )


class SqlApprovals:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self, approval: NewApproval) -> int:
        parked = approval.parked
        async with self.db.write() as connection:
            approval_id = await connection.scalar(
                insert(ApprovalRow)
                .values(
                    chat_id=approval.key.chat_id,
                    thread_id=approval.key.thread_id,
                    user_id=approval.user_id,
                    user_name=approval.user_name,
                    tool=parked.tool,
                    arguments=json.dumps(parked.arguments, ensure_ascii=False, default=str),
                    state=parked.state,
                    model=parked.model,
                    trigger_message_id=approval.trigger_message_id,
                    question="",
                    status=_PENDING,
                    expires_at=approval.expires_at,
                )
                .returning(ApprovalRow.id)
            )
        return int(approval_id or 0)

    async def shown(self, approval_id: int, *, message_id: int, question: str) -> None:
        async with self.db.write() as connection:
            await connection.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id)
                .values(question_message_id=message_id, question=question)
            )

    async def get(self, approval_id: int) -> Approval | None:
        async with self.db.read() as connection:
            row = (
                await connection.execute(select(ApprovalRow).where(ApprovalRow.id == approval_id))
            ).first()
        return _approval(row) if row is not None else None

    async def decide(
        self, approval_id: int, status: ApprovalStatus, *, again: bool = False
    ) -> bool:
        allowed_from = [_PENDING, status.value] if again else [_PENDING]
        async with self.db.write() as connection:
            result = await connection.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id, ApprovalRow.status.in_(allowed_from))
                .values(status=status.value, decided_at=datetime.now(UTC))
            )
        return result.rowcount == 1

    async def done(self, approval_id: int) -> None:
        async with self.db.write() as connection:
            await connection.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id)
                .values(status=ApprovalStatus.DONE.value)
            )

    async def due(self, now: datetime, *, limit: int = 100) -> list[Approval]:
        async with self.db.read() as connection:
            rows = await connection.execute(
                select(ApprovalRow)
                .where(ApprovalRow.status == _PENDING, ApprovalRow.expires_at <= now)
                .order_by(ApprovalRow.expires_at)
                .limit(limit)
            )
            return [_approval(row) for row in rows]

    async def pending_in(self, key: ConversationKey) -> list[Approval]:
        async with self.db.read() as connection:
            rows = await connection.execute(
                select(ApprovalRow)
                .where(
                    ApprovalRow.chat_id == key.chat_id,
                    ApprovalRow.thread_id == key.thread_id,
                    ApprovalRow.status == _PENDING,
                )
                .order_by(ApprovalRow.id)
            )
            return [_approval(row) for row in rows]
