"""The durable inbox handles each update once, under any concurrency, and survives crashes."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Row, select, text
from sqlalchemy.exc import DBAPIError
from structlog.testing import capture_logs

from magpie.storage.database import Database, create_engine
from magpie.storage.inbox import MAX_ATTEMPTS, Inbox
from magpie.storage.tables import InboxRow


def payload(update_id: int) -> str:
    return f'{{"update_id": {update_id}, "message": {{"text": "hi {update_id}"}}}}'


def batch(*update_ids: int) -> list[tuple[int, str]]:
    return [(update_id, payload(update_id)) for update_id in update_ids]


async def inbox_row(db: Database, update_id: int) -> Row[Any]:
    async with db.read() as connection:
        return (
            await connection.execute(select(InboxRow).where(InboxRow.update_id == update_id))
        ).one()


async def recovered(inbox: Inbox, **options: int) -> list[tuple[int, str]]:
    return [pair async for pair in inbox.recover(**options)]


@contextlib.asynccontextmanager
async def restarted(database_url: str) -> AsyncIterator[Database]:
    """The same database, as a new Magpie process would open it."""
    db = Database(create_engine(database_url))
    try:
        yield db
    finally:
        await db.close()


# Recording: "new" comes from the write itself


async def test_recording_returns_only_updates_not_seen_before(migrated_db: Database) -> None:
    inbox = Inbox(migrated_db)

    assert await inbox.record(batch(1, 2)) == [1, 2]
    assert await inbox.record(batch(1, 2)) == []
    assert await inbox.record(batch(2, 3)) == [3]
    assert await inbox.record([]) == []


async def test_one_batch_with_a_repeated_update_records_it_once(migrated_db: Database) -> None:
    assert await Inbox(migrated_db).record(batch(7, 7)) == [7]


async def test_concurrent_deliveries_of_one_update_are_new_exactly_once(
    database_url: str, migrated_db: Database
) -> None:
    """Telegram retrying a slow webhook, or two replicas: each id is scheduled by one of them.

    Four processes' worth of engines (each its own pool, on PostgreSQL its own connections),
    25 requests each, all recording overlapping batches of the same 40 ids at once.
    """
    replicas = [Database(create_engine(database_url)) for _ in range(4)]
    shuffle = random.Random(10)
    try:
        requests = []
        for n in range(100):
            ids = shuffle.sample(range(1, 41), k=8)
            requests.append(Inbox(replicas[n % 4]).record(batch(*ids)))
        results = await asyncio.gather(*requests)
    finally:
        for replica in replicas:
            await replica.close()

    new = Counter(uid for result in results for uid in result)
    async with migrated_db.read() as connection:
        stored = set(await connection.scalars(select(InboxRow.update_id)))
    assert set(new.values()) == {1}  # nobody saw an id as new twice
    assert set(new) == stored


# Marks: done, failed, skipped


async def test_a_handled_update_is_no_longer_pending(migrated_db: Database) -> None:
    inbox = Inbox(migrated_db)
    await inbox.record(batch(1, 2))

    await inbox.started(1)
    await inbox.done(1)

    assert await inbox.pending() == batch(2)
    row = await inbox_row(migrated_db, 1)
    assert (row.status, row.attempts, row.error) == ("done", 1, None)
    assert row.handled_at is not None


async def test_done_marks_are_written_with_the_next_batch(migrated_db: Database) -> None:
    inbox = Inbox(migrated_db, flush_after=3600)
    await inbox.record(batch(1))
    await inbox.done(1)

    await inbox.record(batch(2))

    assert (await inbox_row(migrated_db, 1)).status == "done"
    assert (await inbox_row(migrated_db, 2)).status == "pending"


async def test_done_marks_are_written_shortly_without_a_next_batch(migrated_db: Database) -> None:
    inbox = Inbox(migrated_db, flush_after=0.01)
    await inbox.record(batch(1))
    await inbox.done(1)
    assert inbox._timer is not None

    await inbox._timer  # the timer's flush, not one of ours

    assert (await inbox_row(migrated_db, 1)).status == "done"


async def test_marks_the_database_refused_are_written_later(migrated_db: Database) -> None:
    inbox = Inbox(migrated_db, flush_after=3600)
    await inbox.record(batch(1))
    await inbox.started(1)
    await inbox.done(1)
    async with migrated_db.write() as connection:
        await connection.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))
    with pytest.raises(DBAPIError):
        await inbox.flush()
    async with migrated_db.write() as connection:
        await connection.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))

    await inbox.close()

    row = await inbox_row(migrated_db, 1)
    assert (row.status, row.attempts) == ("done", 1)


async def test_a_failed_update_is_marked_failed_with_its_error_and_not_pending(
    migrated_db: Database,
) -> None:
    inbox = Inbox(migrated_db)
    await inbox.record(batch(1))

    await inbox.done(1, error="ValueError: no text")

    assert await inbox.pending() == []
    assert await recovered(inbox) == []
    row = await inbox_row(migrated_db, 1)
    assert (row.status, row.error) == ("failed", "ValueError: no text")
    assert row.handled_at is not None


async def test_a_skipped_update_is_stored_settled_and_still_deduplicated(
    migrated_db: Database,
) -> None:
    inbox = Inbox(migrated_db)

    assert await inbox.record(batch(1, 2), skipped={2}) == [1, 2]
    assert await inbox.record(batch(2), skipped={2}) == []

    assert await inbox.pending() == batch(1)
    row = await inbox_row(migrated_db, 2)
    assert (row.status, row.payload) == ("skipped", payload(2))
    assert row.handled_at is not None


# Crashes and recovery


async def test_after_a_crash_unfinished_updates_are_recovered_oldest_first(
    database_url: str, migrated_db: Database
) -> None:
    inbox = Inbox(migrated_db)
    await inbox.record(batch(12, 10, 11))
    await inbox.started(10)
    await inbox.done(10)
    await inbox.started(11)
    await inbox.flush()  # then the process dies while answering 11; 12 waited behind it
    await migrated_db.close()

    async with restarted(database_url) as db:
        assert await recovered(Inbox(db)) == batch(11, 12)
        assert [(await inbox_row(db, u)).attempts for u in (10, 11, 12)] == [1, 1, 0]


async def test_updates_that_were_never_started_keep_their_attempts_across_restarts(
    database_url: str, migrated_db: Database
) -> None:
    """A backlog waiting behind one slow answer must not be used up by a crash loop."""
    await Inbox(migrated_db).record(batch(1, 2, 3))
    await migrated_db.close()

    for _ in range(MAX_ATTEMPTS):
        async with restarted(database_url) as db:
            inbox = Inbox(db)
            assert [u for u, _ in await recovered(inbox)] == [1, 2, 3]
            await inbox.started(1, durable=True)  # the first is started; then Magpie dies

    async with restarted(database_url) as db:
        assert [u for u, _ in await recovered(Inbox(db))] == [2, 3]  # 1 is given up on
        rows = [await inbox_row(db, u) for u in (1, 2, 3)]
    assert [(r.status, r.attempts) for r in rows] == [
        ("failed", MAX_ATTEMPTS),
        ("pending", 0),
        ("pending", 0),
    ]


async def test_an_update_that_keeps_crashing_magpie_is_given_up_with_a_log_line(
    database_url: str, migrated_db: Database
) -> None:
    """Otherwise every restart would try it again, and crash again."""
    await Inbox(migrated_db).record(batch(1))
    await migrated_db.close()
    recoveries = []
    for _ in range(MAX_ATTEMPTS + 1):
        async with restarted(database_url) as db:
            inbox = Inbox(db)
            with capture_logs() as logs:
                recoveries.append(await recovered(inbox))
            for update_id, _ in recoveries[-1]:
                await inbox.started(update_id, durable=True)  # ...and it crashes Magpie

    assert recoveries == [batch(1)] * MAX_ATTEMPTS + [[]]
    given_up = [e for e in logs if e["event"] == "update.given_up"]
    assert [(e["update_id"], e["log_level"]) for e in given_up] == [(1, "warning")]
    assert f"started {MAX_ATTEMPTS} times" in given_up[0]["reason"]
    async with restarted(database_url) as db:
        row = await inbox_row(db, 1)
    assert (row.status, row.error) == ("failed", "out of attempts")


async def test_a_start_written_shortly_counts_even_if_the_done_mark_never_comes(
    database_url: str, migrated_db: Database
) -> None:
    inbox = Inbox(migrated_db, flush_after=0.01)
    await inbox.record(batch(1))
    await inbox.started(1)  # a long answer begins
    assert inbox._timer is not None
    await inbox._timer  # written by the timer while it runs; then Magpie dies
    await migrated_db.close()

    async with restarted(database_url) as db:
        assert (await inbox_row(db, 1)).attempts == 1


async def test_a_mark_lost_in_a_crash_means_the_update_is_handled_again(
    database_url: str, migrated_db: Database
) -> None:
    """At-least-once at the very end; the handlers make a second handling harmless."""
    inbox = Inbox(migrated_db, flush_after=3600)
    await inbox.record(batch(1))
    await inbox.started(1)
    await inbox.done(1)  # the process dies before the marks are written
    await migrated_db.close()

    async with restarted(database_url) as db:
        assert await recovered(Inbox(db)) == batch(1)
        assert (await inbox_row(db, 1)).attempts == 0


async def test_recovery_goes_past_the_first_page_and_keeps_the_order(
    migrated_db: Database,
) -> None:
    """A long outage can leave thousands pending; all of them are handled, oldest first."""
    ids = list(range(1, 1_202))
    await Inbox(migrated_db).record(batch(*reversed(ids)))

    assert [u for u, _ in await recovered(Inbox(migrated_db))] == ids
    assert [u for u, _ in await recovered(Inbox(migrated_db), page=7)] == ids
