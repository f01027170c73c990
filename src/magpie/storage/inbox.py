"""The durable inbox: an update is recorded before it is acknowledged, and handled once.

The normal path costs one write per batch (record) and one per update (done). Attempts are
counted at recovery: an update still pending when Magpie starts was being handled when the
previous run died, so each start that finds it pending is one failed attempt. After
MAX_ATTEMPTS such starts it is marked failed instead of crashing Magpie again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from magpie.storage.database import Database, insert_for
from magpie.storage.tables import InboxRow

PENDING, DONE, FAILED = "pending", "done", "failed"
MAX_ATTEMPTS = 3


class Inbox:
    """Dedupe by update_id; recover what a crash left pending."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, updates: list[tuple[int, str]]) -> list[int]:
        """Store (update_id, raw JSON) pairs; returns the ids that were new, each once."""
        if not updates:
            return []
        unique = dict(updates)
        async with self.db.write() as session:
            known = set(
                await session.scalars(
                    select(InboxRow.update_id).where(InboxRow.update_id.in_(list(unique)))
                )
            )
            fresh = [(uid, payload) for uid, payload in unique.items() if uid not in known]
            for update_id, payload in fresh:
                await session.execute(
                    insert_for(session, InboxRow)
                    .values(update_id=update_id, payload=payload, status=PENDING)
                    .on_conflict_do_nothing(index_elements=["update_id"])
                )
        return [uid for uid, _ in fresh]

    async def done(self, update_id: int, *, error: str | None = None) -> None:
        async with self.db.write() as session:
            await session.execute(
                update(InboxRow)
                .where(InboxRow.update_id == update_id)
                .values(
                    status=FAILED if error else DONE,
                    error=error,
                    handled_at=datetime.now(UTC),
                )
            )

    async def recover(self, *, limit: int = 1000) -> list[tuple[int, str]]:
        """At start: count one more attempt for every pending update and return those to retry.

        Updates that have used up their attempts are marked failed ("out of attempts").
        """
        async with self.db.write() as session:
            await session.execute(
                update(InboxRow)
                .where(InboxRow.status == PENDING)
                .values(attempts=InboxRow.attempts + 1)
            )
            await session.execute(
                update(InboxRow)
                .where(InboxRow.status == PENDING, InboxRow.attempts > MAX_ATTEMPTS)
                .values(status=FAILED, error="out of attempts", handled_at=datetime.now(UTC))
            )
        return await self.pending(limit=limit)

    async def pending(self, *, limit: int = 1000) -> list[tuple[int, str]]:
        """Updates recorded but not handled, oldest first."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(InboxRow.update_id, InboxRow.payload)
                .where(InboxRow.status == PENDING)
                .order_by(InboxRow.update_id)
                .limit(limit)
            )
            return [(row.update_id, row.payload) for row in rows]
