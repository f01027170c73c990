"""Stored questions, on SQLite and PostgreSQL: the paused run reads back whole, a decision
happens once however many presses (or workers, or sweeps) race for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from magpie.conversation.types import ApprovalStatus, ConversationKey, NewApproval, Parked
from magpie.storage.approvals import SqlApprovals
from magpie.storage.database import Database

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TOPIC = ConversationKey(-100, 7)


def new(key: ConversationKey = TOPIC, *, expires_in: float = 600) -> NewApproval:
    return NewApproval(
        key=key,
        user_id=1,
        user_name="Ann",
        parked=Parked(
            tool="save_note",
            arguments={"text": "ключі під килимком", "n": 2},
            state='{"messages": [], "waiting": ["call-1"], "tool_calls": 0}',
            model="openai:gpt-4o-mini",
        ),
        trigger_message_id=10,
        expires_at=NOON + timedelta(seconds=expires_in),
    )


async def test_a_question_reads_back_as_it_was_stored(migrated_db: Database) -> None:
    approvals = SqlApprovals(migrated_db)
    approval_id = await approvals.open(new())
    await approvals.shown(approval_id, message_id=501, question="Ann, may I…?")
    stored = await approvals.get(approval_id)
    assert stored is not None
    assert stored.parked == new().parked
    assert (stored.key, stored.user_id, stored.user_name) == (TOPIC, 1, "Ann")
    assert (stored.question_message_id, stored.question) == (501, "Ann, may I…?")
    assert stored.expires_at == NOON + timedelta(seconds=600)
    assert stored.status is ApprovalStatus.PENDING
    assert await approvals.get(approval_id + 1) is None


async def test_of_many_racing_decisions_exactly_one_wins(migrated_db: Database) -> None:
    approvals = SqlApprovals(migrated_db)
    approval_id = await approvals.open(new())
    racing = [ApprovalStatus.ALLOWED] * 10 + [ApprovalStatus.EXPIRED, ApprovalStatus.CANCELLED]
    won = await asyncio.gather(*(approvals.decide(approval_id, status) for status in racing))
    assert won.count(True) == 1
    winner = racing[won.index(True)]
    assert (await approvals.get(approval_id)).status is winner  # type: ignore[union-attr]


async def test_a_redelivered_decision_counts_until_the_run_is_done(migrated_db: Database) -> None:
    approvals = SqlApprovals(migrated_db)
    approval_id = await approvals.open(new())
    assert await approvals.decide(approval_id, ApprovalStatus.ALLOWED)
    assert not await approvals.decide(approval_id, ApprovalStatus.ALLOWED)
    assert await approvals.decide(approval_id, ApprovalStatus.ALLOWED, again=True)
    assert not await approvals.decide(approval_id, ApprovalStatus.DENIED, again=True)
    await approvals.done(approval_id)
    assert not await approvals.decide(approval_id, ApprovalStatus.ALLOWED, again=True)


async def test_due_and_pending_questions(migrated_db: Database) -> None:
    approvals = SqlApprovals(migrated_db)
    soon = await approvals.open(new(expires_in=60))
    later = await approvals.open(new(expires_in=600))
    elsewhere = await approvals.open(new(ConversationKey(-100, 9), expires_in=30))
    assert [a.id for a in await approvals.due(NOON + timedelta(seconds=120))] == [
        elsewhere,
        soon,
    ]
    assert [a.id for a in await approvals.due(NOON + timedelta(seconds=120), limit=1)] == [
        elsewhere
    ]
    assert [a.id for a in await approvals.pending_in(TOPIC)] == [soon, later]
    await approvals.decide(soon, ApprovalStatus.EXPIRED)
    assert [a.id for a in await approvals.pending_in(TOPIC)] == [later]
    assert [a.id for a in await approvals.due(NOON + timedelta(seconds=120))] == [elsewhere]
