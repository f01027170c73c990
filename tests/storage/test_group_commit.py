"""Group commit: turns of many chats share transactions, and one bad write fails only itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from magpie.conversation.types import ConversationKey, Sent
from magpie.storage.conversations import SqlConversationStore
from magpie.storage.directory import ChatInfo, Directory, UserInfo
from magpie.storage.group_commit import GroupCommit
from magpie.storage.tables import MessageRow, TurnRow
from tests.databases import BACKENDS, fresh_database_url, migrated_database
from tests.storage.test_conversation_store import answered, said, save_turn

ANN = UserInfo(id=101, first_name="Ann")
CHATS = [ChatInfo(id=1000 + n, type="private") for n in range(40)]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_turns_of_many_chats_share_transactions(backend: str, tmp_path: Path) -> None:
    async with (
        fresh_database_url(backend, tmp_path) as url,
        migrated_database(url) as db,
    ):
        for chat in CHATS:
            await Directory(db).remember(users=[ANN], chat=chat)
        store = SqlConversationStore(db)
        commits = 0

        def count(_: object) -> None:
            nonlocal commits
            commits += 1

        event.listen(db.engine.sync_engine, "commit", count)
        keys = [ConversationKey(chat.id) for chat in CHATS]
        await asyncio.gather(
            *(
                save_turn(
                    store,
                    answered(key, 1, Sent(2, f"hi {key.chat_id}")),
                    asked=said(key, 1, ANN, "hello"),
                )
                for key in keys
            )
        )

        assert commits < len(keys) / 2  # 40 turns written twice each: a handful of transactions
        async with db.read() as connection:
            assert await connection.scalar(select(func.count()).select_from(TurnRow)) == 40
            replies = (
                await connection.execute(
                    select(MessageRow.chat_id, MessageRow.turn_id, TurnRow.chat_id)
                    .join(TurnRow, TurnRow.id == MessageRow.turn_id)
                    .where(MessageRow.outgoing)
                )
            ).all()
        assert len(replies) == 40
        assert all(reply_chat == turn_chat for reply_chat, _, turn_chat in replies)
        for key in keys:
            lines = await store.history(key, limit=10)
            assert [line.text for line in lines] == ["hello", f"hi {key.chat_id}"]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_bad_write_fails_only_its_own_caller(backend: str, tmp_path: Path) -> None:
    async with (
        fresh_database_url(backend, tmp_path) as url,
        migrated_database(url) as db,
    ):
        for chat in CHATS[:3]:
            await Directory(db).remember(users=[ANN], chat=chat)
        store = SqlConversationStore(db)
        unknown_chat = ConversationKey(999_999)  # no such chat: the foreign key refuses it

        results = await asyncio.gather(
            store.save_incoming(said(ConversationKey(CHATS[0].id), 1, ANN, "one")),
            store.save_incoming(said(unknown_chat, 1, ANN, "lost")),
            store.save_incoming(said(ConversationKey(CHATS[1].id), 1, ANN, "two")),
            store.save_incoming(said(ConversationKey(CHATS[2].id), 1, ANN, "three")),
            return_exceptions=True,
        )

        assert [type(r) for r in results] == [type(None), IntegrityError, type(None), type(None)]
        async with db.read() as connection:
            texts = set(await connection.scalars(select(MessageRow.text)))
        assert texts == {"one", "two", "three"}


async def test_writes_that_queue_up_meanwhile_go_in_one_batch() -> None:
    batches: list[list[int]] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def write(items: list[int]) -> None:
        batches.append(items)
        started.set()
        await release.wait()

    commit = GroupCommit(write)
    first = asyncio.create_task(commit.submit(0))
    await started.wait()  # the first transaction is running...
    rest = [asyncio.create_task(commit.submit(n)) for n in range(1, 6)]  # ...these queue up
    await asyncio.sleep(0)
    assert not any(task.done() for task in [first, *rest])  # nobody returns before its commit
    release.set()
    await asyncio.gather(first, *rest)

    assert batches == [[0], [1, 2, 3, 4, 5]]


async def test_callers_are_not_left_waiting_when_the_writer_is_cancelled() -> None:
    started = asyncio.Event()

    async def write(items: list[int]) -> None:
        started.set()
        await asyncio.Event().wait()  # a write that never finishes

    commit = GroupCommit(write)
    waiting = [asyncio.create_task(commit.submit(n)) for n in range(3)]
    await started.wait()
    assert commit._writer is not None
    commit._writer.cancel()

    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)


async def test_closing_waits_for_the_writes_already_queued() -> None:
    written: list[int] = []
    release = asyncio.Event()

    async def write(items: list[int]) -> None:
        await release.wait()
        written.extend(items)

    commit = GroupCommit(write)
    callers = [asyncio.create_task(commit.submit(n)) for n in range(3)]
    await asyncio.sleep(0)  # they are queued
    closing = asyncio.create_task(commit.close())
    await asyncio.sleep(0)
    assert not closing.done()
    release.set()
    await closing

    assert sorted(written) == [0, 1, 2]  # written before close returned
    await asyncio.gather(*callers)  # and every caller was told so
