"""The durable inbox: an update is recorded before it is acknowledged, and handled once.

The normal path costs one write per batch: `record` stores the batch and, in the same
transaction, the "done" marks of updates handled since the last write. When no batch comes
along, marks are written `flush_after` seconds after the first of them. A crash can lose those
last marks; the updates are then handled again at the next start, which is harmless because
handling is idempotent (a message that was answered is not answered again).

Attempts are counted at recovery: an update still pending when Magpie starts was being handled
when the previous run died, so each start that finds it pending is one failed attempt. After
MAX_ATTEMPTS such starts it is marked failed instead of crashing Magpie again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from magpie.storage.database import Database
from magpie.storage.tables import InboxRow, table

log = structlog.get_logger(__name__)
PENDING, DONE, FAILED = "pending", "done", "failed"
MAX_ATTEMPTS = 3

INBOX = table(InboxRow)
_KNOWN = select(INBOX.c.update_id).where(INBOX.c.update_id.in_(bindparam("ids", expanding=True)))
_MARK = (
    INBOX.update()
    .where(INBOX.c.update_id == bindparam("mark_update_id"))
    .values(
        status=bindparam("mark_status"),
        error=bindparam("mark_error"),
        handled_at=bindparam("mark_handled_at"),
    )
)


class Inbox:
    """Dedupe by update_id; recover what a crash left pending."""

    def __init__(self, db: Database, *, flush_after: float = 0.2) -> None:
        self.db = db
        self.flush_after = flush_after
        self._marks: list[dict[str, Any]] = []
        self._timer: asyncio.Task[None] | None = None
        self._new = db.insert(INBOX).on_conflict_do_nothing(index_elements=["update_id"])

    async def record(self, updates: list[tuple[int, str]]) -> list[int]:
        """Store (update_id, raw JSON) pairs; returns the ids that were new, each once."""
        if not updates:
            return []
        unique = dict(updates)
        async with self._write_with_marks() as connection:
            known = set(await connection.scalars(_KNOWN, {"ids": list(unique)}))
            fresh = [(uid, payload) for uid, payload in unique.items() if uid not in known]
            if fresh:
                await connection.execute(
                    self._new,
                    [{"update_id": u, "payload": p, "status": PENDING} for u, p in fresh],
                )
        return [uid for uid, _ in fresh]

    async def done(self, update_id: int, *, error: str | None = None) -> None:
        """Mark an update handled (or failed); written with the next batch, or shortly."""
        self._marks.append(
            {
                "mark_update_id": update_id,
                "mark_status": FAILED if error else DONE,
                "mark_error": error,
                "mark_handled_at": datetime.now(UTC),
            }
        )
        if self._timer is None:
            self._timer = asyncio.create_task(self._flush_soon())

    async def flush(self) -> None:
        """Write the marks not written yet; kept for the next try if the database refuses."""
        if self._marks:
            async with self._write_with_marks():
                pass

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        await self.flush()

    async def recover(self, *, limit: int = 1000) -> list[tuple[int, str]]:
        """At start: count one more attempt for every pending update and return those to retry.

        Updates that have used up their attempts are marked failed ("out of attempts").
        """
        async with self.db.write() as connection:
            await connection.execute(
                update(InboxRow)
                .where(InboxRow.status == PENDING)
                .values(attempts=InboxRow.attempts + 1)
            )
            await connection.execute(
                update(InboxRow)
                .where(InboxRow.status == PENDING, InboxRow.attempts > MAX_ATTEMPTS)
                .values(status=FAILED, error="out of attempts", handled_at=datetime.now(UTC))
            )
        return await self.pending(limit=limit)

    async def pending(self, *, limit: int = 1000) -> list[tuple[int, str]]:
        """Updates recorded but not handled, oldest first."""
        await self.flush()
        async with self.db.read() as connection:
            rows = await connection.execute(
                select(InboxRow.update_id, InboxRow.payload)
                .where(InboxRow.status == PENDING)
                .order_by(InboxRow.update_id)
                .limit(limit)
            )
            return [(row.update_id, row.payload) for row in rows]

    @contextlib.asynccontextmanager
    async def _write_with_marks(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction that also carries the marks not written yet (kept if it fails)."""
        marks, self._marks = self._marks, []
        try:
            async with self.db.write() as connection:
                yield connection
                if marks:
                    await connection.execute(_MARK, marks)
        except BaseException:
            self._marks[:0] = marks
            raise

    async def _flush_soon(self) -> None:
        try:
            await asyncio.sleep(self.flush_after)
            self._timer = None
            await self.flush()
        except Exception:
            log.warning("inbox.marks_not_written", exc_info=True, waiting=len(self._marks))
        finally:
            if self._timer is asyncio.current_task():
                self._timer = None
