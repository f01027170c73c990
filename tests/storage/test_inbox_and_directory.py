"""The durable inbox handles each update once and survives crashes; the directory stays current."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Row, select, text, update
from sqlalchemy.exc import DBAPIError

from magpie.storage.database import Database, create_engine
from magpie.storage.directory import ChatInfo, Directory, UserInfo
from magpie.storage.inbox import MAX_ATTEMPTS, Inbox
from magpie.storage.tables import ChatRow, InboxRow, TopicRow, UserRow

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def payload(update_id: int) -> str:
    return f'{{"update_id": {update_id}, "message": {{"text": "hi {update_id}"}}}}'


def batch(*update_ids: int) -> list[tuple[int, str]]:
    return [(update_id, payload(update_id)) for update_id in update_ids]


async def inbox_row(db: Database, update_id: int) -> Row[Any]:
    async with db.read() as connection:
        return (
            await connection.execute(select(InboxRow).where(InboxRow.update_id == update_id))
        ).one()


# The inbox


async def test_recording_returns_only_updates_not_seen_before(migrated_db: Database) -> None:
    inbox = Inbox(migrated_db)

    assert await inbox.record(batch(1, 2)) == [1, 2]
    assert await inbox.record(batch(1, 2)) == []
    assert await inbox.record(batch(2, 3)) == [3]
    assert await inbox.record([]) == []


async def test_a_handled_update_is_no_longer_pending(migrated_db: Database) -> None:
    inbox = Inbox(migrated_db)
    await inbox.record(batch(1, 2))

    await inbox.done(1)

    assert await inbox.pending() == batch(2)
    row = await inbox_row(migrated_db, 1)
    assert (row.status, row.attempts, row.error) == ("done", 0, None)
    assert row.handled_at is not None


async def test_after_a_crash_unhandled_updates_are_recovered_oldest_first(
    database_url: str, migrated_db: Database
) -> None:
    inbox = Inbox(migrated_db)
    await inbox.record(batch(12, 10, 11))
    await inbox.done(10)
    await inbox.flush()  # then the process dies while answering 11
    await migrated_db.close()

    restarted = Database(create_engine(database_url))
    try:
        assert await Inbox(restarted).recover() == batch(11, 12)
        assert (await inbox_row(restarted, 11)).attempts == 1
    finally:
        await restarted.close()


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


async def test_a_mark_lost_in_a_crash_means_the_update_is_handled_again(
    database_url: str, migrated_db: Database
) -> None:
    """At-least-once at the very end; the handlers make a second handling harmless."""
    inbox = Inbox(migrated_db, flush_after=3600)
    await inbox.record(batch(1))
    await inbox.done(1)  # the process dies before the mark is written
    await migrated_db.close()

    restarted = Database(create_engine(database_url))
    try:
        assert await Inbox(restarted).recover() == batch(1)
    finally:
        await restarted.close()


async def test_marks_the_database_refused_are_written_later(migrated_db: Database) -> None:
    inbox = Inbox(migrated_db, flush_after=3600)
    await inbox.record(batch(1))
    await inbox.done(1)
    async with migrated_db.write() as connection:
        await connection.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))
    with pytest.raises(DBAPIError):
        await inbox.flush()
    async with migrated_db.write() as connection:
        await connection.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))

    await inbox.close()

    assert (await inbox_row(migrated_db, 1)).status == "done"


async def test_a_failed_update_is_marked_failed_with_its_error_and_not_pending(
    migrated_db: Database,
) -> None:
    inbox = Inbox(migrated_db)
    await inbox.record(batch(1))

    await inbox.done(1, error="ValueError: no text")

    assert await inbox.pending() == []
    assert await inbox.recover() == []
    row = await inbox_row(migrated_db, 1)
    assert (row.status, row.error) == ("failed", "ValueError: no text")
    assert row.handled_at is not None


async def test_an_update_that_keeps_crashing_magpie_is_given_up(migrated_db: Database) -> None:
    """Otherwise every restart would try it again, and crash again."""
    inbox = Inbox(migrated_db)
    await inbox.record(batch(1))
    recoveries = [await inbox.recover() for _ in range(MAX_ATTEMPTS + 1)]

    assert recoveries == [batch(1)] * MAX_ATTEMPTS + [[]]
    row = await inbox_row(migrated_db, 1)
    assert (row.status, row.error) == ("failed", "out of attempts")


async def test_one_batch_with_a_repeated_update_records_it_once(migrated_db: Database) -> None:
    assert await Inbox(migrated_db).record(batch(7, 7)) == [7]


# The directory

ANN = UserInfo(id=101, first_name="Ann", last_name="Smith", username="ann", language_code="en")
GROUP = ChatInfo(id=-100_555, type="group", title="Book club")


async def test_remembering_a_user_again_updates_names_and_username(migrated_db: Database) -> None:
    directory = Directory(migrated_db)
    await directory.remember(users=[ANN], chat=None)

    renamed = UserInfo(id=ANN.id, first_name="Anna", username="anna_s", language_code="uk")
    await directory.remember(users=[renamed], chat=None)

    async with migrated_db.read() as connection:
        rows = (await connection.execute(select(UserRow))).all()
    assert [(r.id, r.first_name, r.last_name, r.username, r.language_code) for r in rows] == [
        (ANN.id, "Anna", None, "anna_s", "uk")
    ]


async def test_remembering_a_chat_again_updates_its_title_and_kind(
    migrated_db: Database,
) -> None:
    directory = Directory(migrated_db)
    await directory.remember(users=[ANN], chat=GROUP)

    upgraded = ChatInfo(id=GROUP.id, type="supergroup", title="Book club 📚", is_forum=True)
    await directory.remember(users=[ANN], chat=upgraded)

    async with migrated_db.read() as connection:
        rows = (await connection.execute(select(ChatRow))).all()
    assert [(r.id, r.type, r.title, r.is_forum) for r in rows] == [
        (GROUP.id, "supergroup", "Book club 📚", True)
    ]


async def test_forum_topics_are_created_and_renamed(migrated_db: Database) -> None:
    directory = Directory(migrated_db)
    forum = ChatInfo(id=GROUP.id, type="supergroup", title="Book club", is_forum=True)

    await directory.remember(users=[ANN], chat=forum, topic=(7, "Plans"))
    await directory.remember(users=[ANN], chat=forum, topic=(7, "Summer plans"))
    await directory.remember(users=[ANN], chat=forum, topic=(7, None))  # a message, no rename
    await directory.remember(users=[ANN], chat=forum, topic=(8, None))  # name not known yet

    async with migrated_db.read() as connection:
        rows = (await connection.execute(select(TopicRow).order_by(TopicRow.thread_id))).all()
    assert [(r.chat_id, r.thread_id, r.name) for r in rows] == [
        (GROUP.id, 7, "Summer plans"),
        (GROUP.id, 8, None),
    ]


async def test_a_user_or_chat_that_changed_gets_a_new_updated_at(migrated_db: Database) -> None:
    directory = Directory(migrated_db)
    await directory.remember(users=[ANN], chat=GROUP)
    async with migrated_db.write() as connection:
        await connection.execute(update(UserRow).values(updated_at=LONG_AGO))
        await connection.execute(update(ChatRow).values(updated_at=LONG_AGO))

    renamed_user = UserInfo(id=ANN.id, first_name="Anna")
    renamed_chat = ChatInfo(id=GROUP.id, type="group", title="Readers")
    await directory.remember(users=[renamed_user], chat=renamed_chat)

    async with migrated_db.read() as connection:
        user_updated = await connection.scalar(select(UserRow.updated_at))
        chat_updated = await connection.scalar(select(ChatRow.updated_at))
    assert user_updated is not None
    assert chat_updated is not None
    assert user_updated.year > LONG_AGO.year
    assert chat_updated.year > LONG_AGO.year
