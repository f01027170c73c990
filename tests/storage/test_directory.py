"""The directory stays current: users, chats and forum topics are upserted as they change."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from magpie.storage.database import Database
from magpie.storage.directory import ChatInfo, Directory, UserInfo
from magpie.storage.tables import ChatRow, TopicRow, UserRow

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


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
