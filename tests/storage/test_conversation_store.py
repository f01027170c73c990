"""What the assistant remembers of a chat, on SQLite, PostgreSQL and the in-memory twin alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from magpie.conversation.memory import MemoryConversationStore
from magpie.conversation.ports import ConversationStore
from magpie.conversation.types import (
    ChatType,
    ConversationKey,
    Incoming,
    Outcome,
    Sent,
    Speaker,
    TurnRecord,
)
from magpie.storage.conversations import SqlConversationStore
from magpie.storage.database import Database
from magpie.storage.directory import ChatInfo, Directory, UserInfo
from magpie.storage.tables import MessageRow, TurnRow
from tests.databases import BACKENDS, fresh_database_url, migrated_database

ANN = UserInfo(id=101, first_name="Ann", last_name="Smith", username="ann")
BOB = UserInfo(id=102, first_name="Bob")
PRIVATE = ChatInfo(id=101, type="private")
GROUP = ChatInfo(id=-100_555, type="supergroup", title="Book club", is_forum=True)
TOPIC = 7

DM = ConversationKey(PRIVATE.id)
GENERAL = ConversationKey(GROUP.id)
PLANS = ConversationKey(GROUP.id, TOPIC)

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def speaker(user: UserInfo) -> Speaker:
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return Speaker(user.id, name, user.username)


def said(key: ConversationKey, message_id: int, user: UserInfo, text: str) -> Incoming:
    chat_type: ChatType = "private" if key.chat_id == PRIVATE.id else "supergroup"
    return Incoming(
        key=key,
        message_id=message_id,
        chat_type=chat_type,
        speaker=speaker(user),
        text=text,
        sent_at=T0 + timedelta(minutes=message_id),
    )


def answered(
    key: ConversationKey,
    trigger: int | None,
    *sent: Sent,
    outcome: Outcome = Outcome.ANSWERED,
    error: str | None = None,
) -> TurnRecord:
    return TurnRecord(
        key=key,
        trigger_message_id=trigger,
        model="fake-large",
        outcome=outcome,
        tokens_in=1200,
        tokens_out=85,
        latency_ms=2400,
        sent=sent,
        error=error,
    )


async def save_turn(
    store: ConversationStore, turn: TurnRecord, *, asked: Incoming | None = None
) -> None:
    """A turn as the assistant records it: begun with its reply, then finished once sent."""
    text = "\n".join(sent.text for sent in turn.sent)
    begun = replace(turn, outcome=Outcome.DELIVERING, sent=(), text=text)
    await store.begin_turn(begun, asked=asked)
    await store.finish_turn(turn)


async def introduce_cast(db: Database) -> None:
    """The SQL store keeps foreign keys to users and chats, as the Directory records them."""
    directory = Directory(db)
    await directory.remember(users=[ANN, BOB], chat=PRIVATE)
    await directory.remember(users=[ANN, BOB], chat=GROUP, topic=(TOPIC, "Plans"))


@pytest.fixture(params=[pytest.param("memory", id="memory"), *BACKENDS])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ConversationStore]:
    """The SQL store on each database, and its in-memory twin, which must behave the same."""
    if request.param == "memory":
        yield MemoryConversationStore()
        return
    async with (
        fresh_database_url(request.param, tmp_path) as url,
        migrated_database(url) as db,
    ):
        await introduce_cast(db)
        yield SqlConversationStore(db)


async def count(db: Database, table: type[MessageRow] | type[TurnRow]) -> int:
    async with db.read() as connection:
        return await connection.scalar(select(func.count()).select_from(table)) or 0


async def test_a_message_saved_twice_is_remembered_once(store: ConversationStore) -> None:
    hello = said(DM, 1, ANN, "hello")

    await store.save_incoming(hello)
    await store.save_incoming(hello)

    lines = await store.history(DM, limit=10)
    assert [(line.message_id, line.text) for line in lines] == [(1, "hello")]


async def test_history_is_the_last_lines_oldest_first_with_speaker_names(
    store: ConversationStore,
) -> None:
    await store.save_incoming(said(GENERAL, 1, ANN, "who read Dune?"))
    await store.save_incoming(said(GENERAL, 2, BOB, "me, twice"))
    await store.save_incoming(said(GENERAL, 3, ANN, "@magpie summarise Dune"))
    await save_turn(store, answered(GENERAL, 3, Sent(4, "Dune is about Paul Atreides...")))
    await store.save_incoming(said(GENERAL, 5, BOB, "thanks"))

    lines = await store.history(GENERAL, limit=3)

    assert [(line.message_id, line.text, line.from_assistant) for line in lines] == [
        (3, "@magpie summarise Dune", False),
        (4, "Dune is about Paul Atreides...", True),
        (5, "thanks", False),
    ]
    assert [line.speaker for line in lines if not line.from_assistant] == ["Ann Smith", "Bob"]


async def test_each_forum_topic_keeps_its_own_history(store: ConversationStore) -> None:
    await store.save_incoming(said(GENERAL, 1, ANN, "welcome all"))
    await store.save_incoming(said(PLANS, 2, BOB, "trip in May?"))
    await save_turn(store, answered(PLANS, 2, Sent(3, "May works for a trip")))
    await store.save_incoming(said(GENERAL, 4, BOB, "hi Ann"))

    general = await store.history(GENERAL, limit=10)
    plans = await store.history(PLANS, limit=10)

    assert [line.text for line in general] == ["welcome all", "hi Ann"]
    assert [line.text for line in plans] == ["trip in May?", "May works for a trip"]


async def test_starting_fresh_hides_earlier_history_but_keeps_the_rows(
    store: ConversationStore,
) -> None:
    await store.save_incoming(said(DM, 1, ANN, "my cat is called Tom"))
    await save_turn(store, answered(DM, 1, Sent(2, "Hello Tom!")))

    await store.start_fresh(DM)
    assert await store.history(DM, limit=10) == []

    await store.save_incoming(said(DM, 3, ANN, "what is my cat called?"))
    assert [line.text for line in await store.history(DM, limit=10)] == ["what is my cat called?"]
    if isinstance(store, SqlConversationStore):
        assert await count(store.db, MessageRow) == 3


async def test_starting_fresh_in_one_topic_keeps_the_other_topics(
    store: ConversationStore,
) -> None:
    await store.save_incoming(said(GENERAL, 1, ANN, "welcome all"))
    await store.save_incoming(said(PLANS, 2, BOB, "trip in May?"))

    await store.start_fresh(PLANS)

    assert await store.history(PLANS, limit=10) == []
    assert [line.text for line in await store.history(GENERAL, limit=10)] == ["welcome all"]


async def test_an_edit_replaces_the_remembered_text(store: ConversationStore) -> None:
    await store.save_incoming(said(DM, 1, ANN, "what is the capital of Austrlia?"))

    await store.save_edit(said(DM, 1, ANN, "what is the capital of Australia?"))

    lines = await store.history(DM, limit=10)
    assert [line.text for line in lines] == ["what is the capital of Australia?"]


async def test_retry_after_an_edit_answers_the_edited_text(store: ConversationStore) -> None:
    await store.save_incoming(said(DM, 1, ANN, "what is the capital of Austrlia?"))
    await save_turn(store, answered(DM, 1, Sent(2, "I am not sure what Austrlia is.")))

    await store.save_edit(said(DM, 1, ANN, "what is the capital of Australia?"))

    prompt = await store.last_prompt(DM)
    assert prompt is not None
    assert prompt.text == "what is the capital of Australia?"


async def test_a_turn_is_stored_with_its_cost_and_its_replies(store: ConversationStore) -> None:
    await store.save_incoming(said(DM, 1, ANN, "write me a long poem"))
    turn = answered(DM, 1, Sent(2, "Part one..."), Sent(3, "Part two..."))

    await save_turn(store, turn)

    lines = await store.history(DM, limit=10)
    assert [(line.message_id, line.text, line.from_assistant) for line in lines] == [
        (1, "write me a long poem", False),
        (2, "Part one...", True),
        (3, "Part two...", True),
    ]
    if isinstance(store, SqlConversationStore):
        async with store.db.read() as connection:
            row = (await connection.execute(select(TurnRow))).one()
            replies = (
                await connection.scalars(select(MessageRow.turn_id).where(MessageRow.outgoing))
            ).all()
        stored = (row.trigger_message_id, row.model, row.tokens_in, row.tokens_out)
        assert stored == (1, "fake-large", 1200, 85)
        assert (row.latency_ms, row.outcome, row.error) == (2400, "answered", None)
        assert row.reply == "Part one...\nPart two..."
        assert replies == [row.id, row.id]
    elif isinstance(store, MemoryConversationStore):
        assert store.turns == [replace(turn, sent=(), text="Part one...\nPart two...")]


async def test_a_turn_stores_the_message_it_answered_in_the_same_write(
    store: ConversationStore,
) -> None:
    asked = said(DM, 1, ANN, "what is my cat called?")

    await save_turn(store, answered(DM, 1, Sent(2, "Tom.")), asked=asked)
    await save_turn(store, answered(DM, 1, Sent(3, "Still Tom.")), asked=asked)  # a /retry

    lines = await store.history(DM, limit=10)
    assert [(line.message_id, line.from_assistant) for line in lines] == [
        (1, False),
        (2, True),
        (3, True),
    ]
    recorded = await store.recorded(DM, 1)
    assert recorded is not None
    assert (recorded.outcome, recorded.text) == (Outcome.ANSWERED, "Still Tom.")  # the newest
    assert await store.recorded(DM, 2) is None


async def test_a_turn_stopped_between_recording_and_sending_reads_as_delivering(
    store: ConversationStore,
) -> None:
    """What a redelivered update needs to send the same reply again (and not ask anew)."""
    begun = replace(answered(DM, 1), outcome=Outcome.DELIVERING, text="The answer, as written.")
    await store.begin_turn(begun, asked=said(DM, 1, ANN, "a question"))
    recorded = await store.recorded(DM, 1)
    assert recorded is not None
    assert (recorded.outcome, recorded.text, recorded.tokens_in) == (
        Outcome.DELIVERING,
        "The answer, as written.",
        1200,
    )
    assert [line.text for line in await store.history(DM, limit=10)] == ["a question"]
    await store.finish_turn(answered(DM, 1, Sent(2, "The answer, as written.")))
    recorded = await store.recorded(DM, 1)
    assert recorded is not None and recorded.outcome is Outcome.ANSWERED


async def test_a_failed_turn_is_stored_with_its_error(store: ConversationStore) -> None:
    await store.save_incoming(said(DM, 1, ANN, "hello"))

    await save_turn(store, answered(DM, 1, outcome=Outcome.FAILED, error="TimeoutError"))

    assert [line.text for line in await store.history(DM, limit=10)] == ["hello"]
    if isinstance(store, SqlConversationStore):
        async with store.db.read() as connection:
            row = (await connection.execute(select(TurnRow))).one()
        assert (row.outcome, row.error) == ("failed", "TimeoutError")


async def test_retry_in_a_private_chat_answers_the_last_message(store: ConversationStore) -> None:
    await store.save_incoming(said(DM, 1, ANN, "hello"))
    await save_turn(store, answered(DM, 1, Sent(2, "Hi Ann!")))
    await store.save_incoming(said(DM, 3, ANN, "tell me a joke"))

    prompt = await store.last_prompt(DM)

    assert prompt is not None
    assert (prompt.key, prompt.message_id, prompt.text) == (DM, 3, "tell me a joke")
    assert (prompt.speaker.id, prompt.speaker.name) == (ANN.id, "Ann Smith")
    assert prompt.chat_type == "private"


async def test_a_remembered_message_keeps_the_moment_it_was_sent(store: ConversationStore) -> None:
    in_kyiv = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=3)))
    await store.save_incoming(replace(said(DM, 1, ANN, "good morning"), sent_at=in_kyiv))

    prompt = await store.last_prompt(DM)

    assert prompt is not None
    assert prompt.sent_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert prompt.sent_at.utcoffset() is not None


async def test_retry_in_a_group_answers_the_last_answered_message_not_later_chatter(
    store: ConversationStore,
) -> None:
    await store.save_incoming(said(GENERAL, 1, ANN, "@magpie recommend a novel"))
    await save_turn(store, answered(GENERAL, 1, Sent(2, "Try Middlemarch.")))
    await store.save_incoming(said(GENERAL, 3, BOB, "lol"))
    await store.save_incoming(said(GENERAL, 4, ANN, "Bob, coming on Friday?"))

    prompt = await store.last_prompt(GENERAL)

    assert prompt is not None
    assert (prompt.message_id, prompt.text) == (1, "@magpie recommend a novel")
    assert (prompt.speaker.name, prompt.chat_type) == ("Ann Smith", "supergroup")


async def test_retry_after_a_failed_turn_answers_the_message_that_failed(
    store: ConversationStore,
) -> None:
    await store.save_incoming(said(GENERAL, 1, ANN, "@magpie recommend a novel"))
    await save_turn(store, answered(GENERAL, 1, Sent(2, "Try Middlemarch.")))
    await store.save_incoming(said(GENERAL, 3, BOB, "@magpie and a film?"))
    await save_turn(store, answered(GENERAL, 3, outcome=Outcome.FAILED, error="TimeoutError"))
    await store.save_incoming(said(GENERAL, 4, ANN, "never mind"))

    prompt = await store.last_prompt(GENERAL)

    assert prompt is not None
    assert (prompt.message_id, prompt.speaker.name) == (3, "Bob")


async def test_retry_answers_nothing_before_anything_was_asked(store: ConversationStore) -> None:
    await store.save_incoming(said(GENERAL, 1, BOB, "morning all"))

    assert await store.last_prompt(DM) is None
    assert await store.last_prompt(GENERAL) is None
    assert await store.last_prompt(PLANS) is None


async def test_sqlite_takes_concurrent_writes_without_database_is_locked(tmp_path: Path) -> None:
    async with (
        fresh_database_url("sqlite", tmp_path) as url,
        migrated_database(url) as db,
    ):
        await introduce_cast(db)
        store = SqlConversationStore(db)

        async def conversation(n: int) -> None:
            await store.save_incoming(said(GENERAL, 2 * n + 1, ANN, f"question {n}"))

        async def turn(n: int) -> None:
            await save_turn(store, answered(GENERAL, 2 * n + 1, Sent(2 * n + 2, f"answer {n}")))

        async def read(_: int) -> None:
            await store.history(GENERAL, limit=20)

        writes_and_reads = [
            *(conversation(n) for n in range(50)),
            *(turn(n) for n in range(50)),
            *(read(n) for n in range(20)),
        ]
        await asyncio.gather(*writes_and_reads)

        assert await count(db, MessageRow) == 100
        assert await count(db, TurnRow) == 50
        assert len(await store.history(GENERAL, limit=200)) == 100


async def test_retry_right_after_new_answers_nothing_from_before_it(
    store: ConversationStore,
) -> None:
    """Regression: /retry after /new answered a message from before /new."""
    await store.save_incoming(said(DM, 1, ANN, "an old question"))
    await save_turn(store, answered(DM, 1, Sent(2, "An old answer.")))
    await store.start_fresh(DM)
    assert await store.last_prompt(DM) is None
    await store.save_incoming(said(DM, 3, ANN, "a new question"))
    prompt = await store.last_prompt(DM)
    assert prompt is not None and prompt.message_id == 3


async def test_an_answered_question_reads_its_outcome_in_history(store: ConversationStore) -> None:
    await store.save_incoming(said(DM, 1, ANN, "remember the keys"))
    await save_turn(store, answered(DM, 1, Sent(2, "Ann, may I save this?")))
    await store.revise_reply(DM, 2, "Ann, may I save this?\n\nAllowed by Ann.")
    await store.revise_reply(DM, 1, "not Magpie's message: unchanged")
    lines = await store.history(DM, limit=10)
    assert [line.text for line in lines] == [
        "remember the keys",
        "Ann, may I save this?\n\nAllowed by Ann.",
    ]
