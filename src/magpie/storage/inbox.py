"""The durable inbox: an update is recorded before it is acknowledged, and handled once.

"New" comes from the write itself: `INSERT … ON CONFLICT DO NOTHING RETURNING update_id` on
PostgreSQL and SQLite alike, so however many requests deliver one update at once, exactly one
of them gets its id back and schedules it.

The normal path costs one write per batch: `record` stores the batch and, in the same
transaction, the marks of updates started or handled since the last write. When no batch comes
along, marks are written `flush_after` seconds after the first of them. A crash can lose those
last marks; the updates are then handled again at the next start, which is harmless because
handling is idempotent (a message that was answered is not answered again).

`attempts` counts the runs that started handling an update. An update still pending at start
with attempts left is handled again; one that was started MAX_ATTEMPTS times and never finished
keeps crashing Magpie, and is given up on (marked failed) rather than crashing it again.
Updates that waited behind others and were never started keep attempts 0.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from magpie.storage.database import Database
from magpie.storage.tables import InboxRow, table

log = structlog.get_logger(__name__)
PENDING, DONE, FAILED, SKIPPED = "pending", "done", "failed", "skipped"
MAX_ATTEMPTS = 3
RECOVERY_PAGE = 500

INBOX = table(InboxRow)
_START = (
    INBOX.update()
    .where(INBOX.c.update_id == bindparam("start_update_id"))
    .values(attempts=INBOX.c.attempts + bindparam("start_delta"))
)
_MARK = (
    INBOX.update()
    .where(INBOX.c.update_id == bindparam("mark_update_id"))
    .values(
        status=bindparam("mark_status"),
        error=bindparam("mark_error"),
        handled_at=bindparam("mark_handled_at"),
        attempts=INBOX.c.attempts + bindparam("mark_started"),
    )
)
_GIVE_UP = (
    update(InboxRow)
    .where(InboxRow.status == PENDING, InboxRow.attempts >= MAX_ATTEMPTS)
    .values(status=FAILED, error="out of attempts", handled_at=bindparam("now"))
    .returning(InboxRow.update_id, InboxRow.attempts)
)
_UNFINISHED = (
    select(InboxRow.update_id, InboxRow.payload)
    .where(InboxRow.status == PENDING, InboxRow.update_id > bindparam("after"))
    .order_by(InboxRow.update_id)
    .limit(bindparam("page"))
)


class Inbox:
    """Dedupe by update_id; count who started what; recover what a crash left pending."""

    def __init__(self, db: Database, *, flush_after: float = 0.2) -> None:
        self.db = db
        self.flush_after = flush_after
        self._marks: list[dict[str, Any]] = []
        self._starts: dict[int, int] = {}  # attempts to add, not written yet
        self._timer: asyncio.Task[None] | None = None
        self._new = (
            db.insert(INBOX)
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(INBOX.c.update_id)
        )

    async def record(
        self, updates: list[tuple[int, str]], *, skipped: Collection[int] = ()
    ) -> list[int]:
        """Store (update_id, raw JSON) pairs; returns the ids that were new, each once.

        Ids in `skipped` (updates Magpie cannot handle, e.g. of a type it does not know) are
        stored as already settled, with status "skipped".
        """
        if not updates:
            return []
        unique = dict(updates)
        now = datetime.now(UTC)
        rows = [
            {
                "update_id": uid,
                "payload": payload,
                "status": SKIPPED if uid in skipped else PENDING,
                "handled_at": now if uid in skipped else None,
            }
            for uid, payload in sorted(unique.items())  # one lock order: no deadlocks
        ]
        async with self._write_with_marks() as connection:
            inserted = set(await connection.scalars(self._new, rows))
        return [uid for uid in unique if uid in inserted]

    async def started(self, update_id: int, *, durable: bool = False) -> None:
        """Count an attempt: handling of this update begins (written with the next write).

        `durable` writes it now, for an update that already survived a crash: if it crashes
        Magpie again within the flush delay, that start must still count.
        """
        self._starts[update_id] = self._starts.get(update_id, 0) + 1
        if durable:
            try:
                await self.flush()
            except Exception:  # kept for the next write; handling goes on
                log.warning("inbox.marks_not_written", exc_info=True, waiting=len(self._marks))
            return
        self._flush_later()

    def interrupted(self, update_id: int) -> None:
        """Uncount a start: Magpie is stopping, which is no fault of the update's (written at
        close, or with the next write; a kill -9 before that counts, as a crash should)."""
        delta = self._starts.get(update_id, 0) - 1
        if delta:
            self._starts[update_id] = delta
        else:
            self._starts.pop(update_id, None)

    async def done(
        self, update_id: int, *, error: str | None = None, skipped: bool = False
    ) -> None:
        """Mark an update handled, failed (with the error) or skipped; written with the next
        batch, or shortly."""
        started = self._starts.pop(update_id, 0)
        self._marks.append(
            {
                "mark_update_id": update_id,
                "mark_status": SKIPPED if skipped else FAILED if error else DONE,
                "mark_error": error,
                "mark_handled_at": datetime.now(UTC),
                "mark_started": started,  # a start not written yet rides on this mark
            }
        )
        self._flush_later()

    async def flush(self) -> None:
        """Write the marks not written yet; kept for the next try if the database refuses."""
        if self._marks or self._starts:
            async with self._write_with_marks():
                pass

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        await self.flush()

    async def recover(self, *, page: int = RECOVERY_PAGE) -> AsyncIterator[tuple[int, str]]:
        """At start: give up on updates that keep crashing Magpie, then yield every other
        pending update, oldest first, a page at a time (no connection held between pages)."""
        await self.flush()
        async with self.db.write() as connection:
            given_up = (await connection.execute(_GIVE_UP, {"now": datetime.now(UTC)})).all()
        for update_id, attempts in sorted(given_up):
            log.warning(
                "update.given_up",
                update_id=update_id,
                reason=f"out of attempts: started {attempts} times, never finished",
            )
        after = -1
        while True:
            async with self.db.read() as connection:
                rows = (await connection.execute(_UNFINISHED, {"after": after, "page": page})).all()
            for row in rows:
                yield row.update_id, row.payload
            if len(rows) < page:
                return
            after = rows[-1].update_id

    async def pending(self, *, limit: int = 1000) -> list[tuple[int, str]]:
        """Updates recorded but not handled, oldest first."""
        await self.flush()
        async with self.db.read() as connection:
            rows = await connection.execute(_UNFINISHED, {"after": -1, "page": limit})
            return [(row.update_id, row.payload) for row in rows]

    @contextlib.asynccontextmanager
    async def _write_with_marks(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction that also carries the marks not written yet (kept if it fails)."""
        marks, self._marks = self._marks, []
        starts, self._starts = self._starts, {}
        try:
            async with self.db.write() as connection:
                yield connection
                if starts:
                    deltas = [{"start_update_id": u, "start_delta": d} for u, d in starts.items()]
                    await connection.execute(_START, deltas)
                if marks:
                    await connection.execute(_MARK, marks)
        except BaseException:
            self._marks[:0] = marks
            for update_id, delta in starts.items():
                self._starts[update_id] = self._starts.get(update_id, 0) + delta
            raise

    def _flush_later(self) -> None:
        if self._timer is None:
            self._timer = asyncio.create_task(self._flush_soon())

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
