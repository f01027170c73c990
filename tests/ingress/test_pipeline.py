"""How updates end in the inbox: handled, failed with the error, skipped, waited out, recovered.

A real aiogram Dispatcher with Magpie's errors router, directory middleware and dishka wiring,
a real inbox on SQLite and PostgreSQL, the sandbox as Telegram; the handler is the test's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message, Update
from dishka import Provider, Scope, make_async_container, provide
from sqlalchemy import event, select
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs
from tg_sandbox import BotAccount, FloodPolicy, Sandbox, User

from magpie.ingress.ordering import ChatQueues
from magpie.ingress.pipeline import UpdatePipeline
from magpie.observability.metrics import Metrics
from magpie.storage.database import Database, create_engine
from magpie.storage.directory import Directory
from magpie.storage.inbox import MAX_ATTEMPTS, Inbox
from magpie.storage.tables import InboxRow, UserRow
from magpie.telegram.middlewares import LogContextMiddleware
from magpie.telegram.routers import errors, wire_container
from magpie.texts import ENGLISH, Texts
from tests.outages import outages

TOKEN = "7000000001:SANDBOX-pipeline"


@dataclass
class Rig:
    """A pipeline into a dispatcher whose one handler notes (chat, text) and can be told what
    to do per text: "crash" raises, "hang" never finishes."""

    sandbox: Sandbox
    account: BotAccount
    bot: Bot
    db: Database
    directory_db: Database
    pauses: list[float] = field(default_factory=list)
    on_pause: Callable[[], Awaitable[None]] | None = None
    handled: list[tuple[int, str]] = field(default_factory=list)
    hung: list[int] = field(default_factory=list)  # chats whose update hangs right now
    _hanging: asyncio.Event = field(default_factory=asyncio.Event)

    def pipeline(self, inbox: Inbox, *, outage_retry: float = 60.0) -> UpdatePipeline:
        router = Router(name="test")
        router.message.register(self._note)
        dispatcher = Dispatcher()
        dispatcher.update.outer_middleware(LogContextMiddleware())
        dispatcher.include_router(router)
        dispatcher.errors.register(errors.on_error)
        wire_container(dispatcher, make_async_container(Wiring(self.directory_db)))
        return UpdatePipeline(
            dispatcher=dispatcher,
            bot=self.bot,
            inbox=inbox,
            metrics=Metrics(),
            username=self.account.username,
            queues=ChatQueues(),
            outage_retry=outage_retry,
            sleep=self._sleep,
        )

    def updates(self, user: User, *texts: str) -> list[Update]:
        """What Telegram would deliver for these private messages (taken off the queue)."""
        for text in texts:
            self.sandbox.people.send_text(user, self.account, text)
        queued = self.account.queue.take(len(texts))
        self.account.queue.confirm(queued[-1].update_id + 1)
        return [Update.model_validate(q.as_json(), context={"bot": self.bot}) for q in queued]

    async def row(self, update_id: int) -> Any:
        async with self.db.read() as connection:
            query = select(InboxRow).where(InboxRow.update_id == update_id)
            return (await connection.execute(query)).one()

    def sent(self, user: User) -> list[str]:
        chat = self.sandbox.private_chat(self.account, user)
        return [m.text or "" for m in chat.messages.values() if m.sender_id == self.account.id]

    async def _note(self, message: Message) -> None:
        if message.text == "crash":
            raise RuntimeError("boom")
        if message.text == "hang":
            self.hung.append(message.chat.id)
            self._hanging.set()
            try:
                await asyncio.Event().wait()
            finally:
                self.hung.remove(message.chat.id)
        self.handled.append((message.chat.id, message.text or ""))

    async def until_hanging(self, count: int) -> None:
        """Wait until `count` "hang" updates are inside the handler."""
        while len(self.hung) < count:
            self._hanging.clear()
            await self._hanging.wait()

    async def _sleep(self, pause: float) -> None:
        self.pauses.append(pause)
        if self.on_pause is not None:
            await self.on_pause()


class Wiring(Provider):
    """What the errors router and the directory middleware take from dishka."""

    scope = Scope.APP

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    @provide
    def texts(self) -> Texts:
        return ENGLISH

    @provide
    def directory(self) -> Directory:
        return Directory(self.db)


@contextlib.asynccontextmanager
async def rigged(database_url: str, directory_url: str | None = None) -> AsyncIterator[Rig]:
    """A sandbox, a bot on it, the inbox's database and the one the middleware writes to."""
    async with Sandbox(flood=FloodPolicy(enabled=False), anti_spin=False) as sandbox:
        account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
        session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url))
        bot = Bot(TOKEN, session=session)
        db = Database(create_engine(database_url))
        directory_db = db if directory_url is None else Database(quick_to_fail(directory_url))
        try:
            yield Rig(sandbox, account, bot, db, directory_db)
        finally:
            await directory_db.close()
            await db.close()
            await bot.session.close()


def quick_to_fail(url: str) -> Any:
    """An engine whose SQLite connections give up on a lock at once (not after 5 s)."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _no_busy_wait)
    return engine


def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


async def users_stored(db: Database) -> list[int]:
    async with db.read() as connection:
        return list(await connection.scalars(select(UserRow.id)))


async def test_a_crashing_handler_marks_the_update_failed_and_the_user_hears_sorry(
    database_url: str, migrated_db: Database
) -> None:
    async with rigged(database_url) as rig:
        inbox = Inbox(rig.db)
        pipeline = rig.pipeline(inbox)
        ann = rig.sandbox.add_user("Ann")
        (crash,) = rig.updates(ann, "crash")
        with capture_logs(processors=[merge_contextvars]) as logs:
            await pipeline.accept([crash])
            await pipeline.queues.join()
        await inbox.close()

        row = await rig.row(crash.update_id)
        assert (row.status, row.error, row.attempts) == ("failed", "RuntimeError: boom", 1)
        assert rig.sent(ann) == [ENGLISH.crashed]
        crashed = [e for e in logs if e["event"] == "update.crashed"]
        assert len(crashed) == 1 and crashed[0]["exc_info"]
        assert {k: crashed[0].get(k) for k in ("update_id", "chat_id", "user_id")} == {
            "update_id": crash.update_id,
            "chat_id": ann.id,
            "user_id": ann.id,
        }


async def test_an_update_of_a_type_aiogram_does_not_know_is_skipped_twice_over(
    database_url: str, migrated_db: Database
) -> None:
    """Telegram adds update types; an old aiogram must not crash on them, nor retry them."""
    async with rigged(database_url) as rig:
        inbox = Inbox(rig.db)
        pipeline = rig.pipeline(inbox)
        novel = Update.model_validate({"update_id": 90, "hologram_call": {"id": "h1"}})
        for _ in range(2):
            await pipeline.accept([novel])
        await pipeline.queues.join()
        await inbox.close()

        row = await rig.row(90)
        assert row.status == "skipped" and row.handled_at is not None
        assert '"hologram_call"' in row.payload  # kept for a later Magpie that knows it
        assert rig.handled == []
        outcomes = {
            s.labels["outcome"]: s.value
            for m in pipeline.metrics.registry.collect()
            for s in m.samples
            if s.name == "magpie_updates_total"
        }
        assert outcomes == {"skipped": 1.0, "duplicate": 1.0}


async def test_a_database_outage_mid_update_is_waited_out_without_an_apology(
    database_url: str, migrated_db: Database
) -> None:
    async with outages(database_url) as (url, outage), rigged(database_url, url) as rig:
        inbox = Inbox(rig.db)
        pipeline = rig.pipeline(inbox)
        rig.on_pause = outage.end  # the database is back while Magpie waits
        ann = rig.sandbox.add_user("Ann")
        (hello,) = rig.updates(ann, "hello")
        await pipeline.accept([hello])
        await outage.begin()  # before the handler runs: remembering Ann fails
        with capture_logs() as logs:
            await pipeline.queues.join()
        await inbox.close()

        assert rig.pauses == [0.5]
        assert rig.handled == [(ann.id, "hello")]
        assert await users_stored(rig.db) == [ann.id]
        assert (await rig.row(hello.update_id)).status == "done"
        assert rig.sent(ann) == []  # nothing went wrong, as far as Ann can tell
        events = [e["event"] for e in logs]
        assert "update.waiting_for_database" in events and "update.crashed" not in events


async def test_an_outage_longer_than_the_wait_fails_the_update_with_an_apology(
    database_url: str, migrated_db: Database
) -> None:
    async with outages(database_url) as (url, outage), rigged(database_url, url) as rig:
        inbox = Inbox(rig.db, flush_after=3600)
        pipeline = rig.pipeline(inbox, outage_retry=1.0)
        ann = rig.sandbox.add_user("Ann")
        (hello,) = rig.updates(ann, "hello")
        await pipeline.accept([hello])
        await outage.begin()
        await pipeline.queues.join()
        await outage.end()
        await inbox.close()

        assert rig.pauses == [0.5, 0.5]
        assert rig.handled == []
        row = await rig.row(hello.update_id)
        assert row.status == "failed" and row.error
        assert rig.sent(ann) == [ENGLISH.crashed]


async def test_recovery_handles_every_pending_update_once_in_conversation_order(
    database_url: str, migrated_db: Database
) -> None:
    """More than two pages' worth, from three chats, recorded by a run that then died."""
    async with rigged(database_url) as rig:
        people = [rig.sandbox.add_user(name) for name in ("Ann", "Bob", "Cy")]
        updates = [u for n in range(401) for u in rig.updates(people[n % 3], f"m{n}")]
        await Inbox(rig.db).record([(u.update_id, u.model_dump_json()) for u in updates])

        inbox = Inbox(rig.db)
        pipeline = rig.pipeline(inbox)
        assert await pipeline.recover() == 401
        await pipeline.queues.join()
        await inbox.close()

        for person in people:
            theirs = [text for chat, text in rig.handled if chat == person.id]
            assert theirs == [f"m{n}" for n in range(401) if people[n % 3] is person]
        assert len(rig.handled) == 401
        assert await inbox.pending() == []


async def test_a_crash_loop_gives_up_only_on_the_update_that_was_running(
    database_url: str, migrated_db: Database
) -> None:
    """Each run starts the first update of the chat and dies in it: the ones waiting behind it
    keep their attempts, and are answered once it is given up on."""
    async with rigged(database_url) as rig:
        ann = rig.sandbox.add_user("Ann")
        updates = rig.updates(ann, "hang", "one", "two")
        await Inbox(rig.db).record([(u.update_id, u.model_dump_json()) for u in updates])

        for _ in range(MAX_ATTEMPTS):
            inbox = Inbox(rig.db)
            pipeline = rig.pipeline(inbox)
            assert await pipeline.recover() == 3
            await rig.until_hanging(1)  # its start is written before it runs
            await pipeline.queues.settle(0)  # kill -9, as far as the inbox can tell

        inbox = Inbox(rig.db)
        pipeline = rig.pipeline(inbox)
        with capture_logs() as logs:
            assert await pipeline.recover() == 2
        await pipeline.queues.join()
        await inbox.close()

        assert rig.handled == [(ann.id, "one"), (ann.id, "two")]
        rows = [await rig.row(u.update_id) for u in updates]
        assert [(r.status, r.attempts) for r in rows] == [
            ("failed", MAX_ATTEMPTS),
            ("done", 1),
            ("done", 1),
        ]
        given_up = [e for e in logs if e["event"] == "update.given_up"]
        assert [e["update_id"] for e in given_up] == [updates[0].update_id]
        ready = [e for e in logs if e["event"] == "inbox.recovered"]
        assert ready[0]["recovered"] == 2


async def test_pending_rows_that_cannot_be_handled_are_settled_at_start(
    database_url: str, migrated_db: Database
) -> None:
    """Left by an older Magpie: a payload this one cannot read, a type it does not know."""
    async with rigged(database_url) as rig:
        novel = '{"update_id": 2, "hologram_call": {"id": "h1"}}'
        await Inbox(rig.db).record([(1, '{"update_id": 1, "message": 7}'), (2, novel)])

        inbox = Inbox(rig.db)
        pipeline = rig.pipeline(inbox)
        with capture_logs() as logs:
            assert await pipeline.recover() == 0
        await inbox.close()

        unreadable, unknown = await rig.row(1), await rig.row(2)
        assert unreadable.status == "failed"
        assert unreadable.error.startswith("unreadable payload")
        assert (unknown.status, unknown.error) == ("skipped", None)
        assert [(e["event"], e["update_id"]) for e in logs if e.get("update_id")] == [
            ("update.given_up", 1),
            ("update.skipped", 2),
        ]


async def test_an_update_cut_off_by_a_shutdown_is_pending_with_no_attempt_used(
    database_url: str, migrated_db: Database
) -> None:
    """Stopping Magpie (a deploy) is no fault of the update's: both the fresh one and the one
    recovered after a crash go back as they were, to be handled at the next start."""
    async with rigged(database_url) as rig:
        ann, bob = rig.sandbox.add_user("Ann"), rig.sandbox.add_user("Bob")
        (crashed,) = rig.updates(ann, "hang")
        await Inbox(rig.db).record([(crashed.update_id, crashed.model_dump_json())])
        inbox = Inbox(rig.db)
        pipeline = rig.pipeline(inbox)
        await pipeline.recover()
        await rig.until_hanging(1)
        await pipeline.queues.settle(0)  # kill -9: its start stays counted
        assert (await rig.row(crashed.update_id)).attempts == 1

        inbox = Inbox(rig.db)
        pipeline = rig.pipeline(inbox)
        assert await pipeline.recover() == 1
        (fresh,) = rig.updates(bob, "hang")
        await pipeline.accept([fresh])
        await rig.until_hanging(2)
        await pipeline.queues.settle(0)  # a shutdown: the handlers are cancelled...
        await inbox.close()  # ...and the inbox's last marks written

        rows = [await rig.row(u.update_id) for u in (crashed, fresh)]
        assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 0)]
