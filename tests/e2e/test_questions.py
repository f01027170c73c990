"""A question about a tool call never freezes a conversation, and its answer survives restarts.

Magpie on the offline model against the sandbox, on SQLite and PostgreSQL: "remember that …"
makes it ask to save a note; meanwhile the chat (and every other topic) goes on being
answered; the answer — now or after a restart — resumes the paused turn; /stop, /new and the
clock close the question cleanly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dishka import Provider, Scope, provide
from sqlalchemy import select
from tg_sandbox import Message, Sandbox

from magpie.conversation.clock import Clock
from magpie.conversation.turn import Assistant
from magpie.storage.database import Database
from magpie.storage.tables import NoteRow
from tests.e2e.conftest import TOKEN, Harness, magpie_settings, start

REMEMBER = "remember that the keys are under the mat"


async def notes(h: Harness) -> list[str]:
    db = await h.runtime.container.get(Database)
    async with db.read() as connection:
        return [row.text for row in await connection.execute(select(NoteRow))]


def buttons(message: Message) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


async def test_the_chat_goes_on_while_a_question_waits(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    chat = magpie.private(ann)
    magpie.sandbox.people.send_text(ann, magpie.account, REMEMBER)
    question = await magpie.confirmation(chat)
    assert "{" not in (question.text or "")  # the arguments as words, not JSON
    assert "the keys are under the mat" in (question.text or "")
    meanwhile = magpie.sandbox.people.send_text(ann, magpie.account, "calculate 17*23")
    assert "391" in ((await magpie.reply_to(meanwhile)).text or "")
    assert buttons(question)  # still open
    magpie.press(ann, question, allow=True)
    await magpie.until(lambda: len(magpie.bot_messages(chat, after=meanwhile.message_id)) >= 2)
    answer = magpie.bot_messages(chat, after=meanwhile.message_id)[-1]
    assert "saved note #1" in (answer.text or "")
    assert await notes(magpie) == ["the keys are under the mat"]
    assert buttons(question) == [] and "Allowed by Ann." in (question.text or "")


async def test_a_question_in_one_topic_holds_up_no_topic(magpie: Harness) -> None:
    sandbox, people = magpie.sandbox, magpie.sandbox.people
    ann, bob = sandbox.add_user("Ann"), sandbox.add_user("Bob")
    forum = sandbox.add_group("Book club", members=[ann, bob], forum=True)
    sandbox.add_bot_to_chat(magpie.account, forum, admin=True)
    await magpie.until(lambda: magpie.bot_messages(forum))
    plans = sandbox.create_topic(forum, "Plans", by=ann)
    maths = sandbox.create_topic(forum, "Maths", by=ann)
    asked = people.send_text(ann, forum, f"magpie, {REMEMBER}", topic=plans.thread_id)
    question = await magpie.confirmation(forum)
    assert question.thread_id == plans.thread_id
    same_topic = people.send_text(bob, forum, "@magpie_bot hello?", topic=plans.thread_id)
    other_topic = people.send_text(ann, forum, "@magpie_bot calculate 6*7", topic=maths.thread_id)
    assert "You wrote" in ((await magpie.reply_to(same_topic)).text or "")
    assert "42" in ((await magpie.reply_to(other_topic)).text or "")
    magpie.press(ann, question, allow=True)
    await magpie.settled()
    resumed = [m for m in magpie.bot_messages(forum) if m.reply_to == asked.message_id]
    assert resumed[-1].thread_id == plans.thread_id
    assert "saved note #1" in (resumed[-1].text or "")


async def test_the_answer_still_works_after_magpie_restarts(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    settings = magpie_settings(sandbox, tmp_path, database_url)
    ann = sandbox.add_user("Ann")
    async with start(sandbox, account, settings) as before:
        sandbox.people.send_text(ann, account, REMEMBER)
        question = await before.confirmation(before.private(ann))
        await before.settled()
    async with start(sandbox, account, settings) as after:  # a new process, same database
        after.press(ann, question, allow=True)
        await after.until(
            lambda: "saved note #1" in (after.bot_messages(after.private(ann))[-1].text or "")
        )
        assert await notes(after) == ["the keys are under the mat"]
        assert buttons(question) == []


@pytest.mark.parametrize("command", ["/stop", "/new"])
async def test_stop_and_new_close_the_question(magpie: Harness, command: str) -> None:
    ann = magpie.sandbox.add_user("Ann")
    magpie.sandbox.people.send_text(ann, magpie.account, REMEMBER)
    question = await magpie.confirmation(magpie.private(ann))
    magpie.sandbox.people.send_text(ann, magpie.account, command)
    await magpie.settled()
    assert buttons(question) == []
    assert (question.text or "").endswith("Stopped, so save_note was not used.")
    assert await notes(magpie) == []


class FrozenClock(Provider):
    """Magpie's wall clock, moved by the test."""

    scope = Scope.APP

    def __init__(self, start: datetime) -> None:
        super().__init__()
        self.times = [start]

    @provide(override=True)
    def clock(self) -> Clock:
        return Clock(now=lambda: self.times[-1])


@pytest.fixture
async def frozen(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[Harness, FrozenClock]]:
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    settings = magpie_settings(sandbox, tmp_path, database_url, tool_confirm_seconds=60)
    clock = FrozenClock(datetime.now(UTC))
    async with start(sandbox, account, settings, extra=[clock]) as harness:
        yield harness, clock


async def test_an_unanswered_question_closes_once_its_time_is_up(
    frozen: tuple[Harness, FrozenClock],
) -> None:
    h, clock = frozen
    ann = h.sandbox.add_user("Ann")
    h.sandbox.people.send_text(ann, h.account, REMEMBER)
    question = await h.confirmation(h.private(ann))
    await h.settled()
    assistant = await h.runtime.container.get(Assistant)
    clock.times.append(clock.times[-1] + timedelta(seconds=59))
    assert await assistant.expire_questions() == 0
    clock.times.append(clock.times[-1] + timedelta(seconds=2))
    assert await assistant.expire_questions() == 1
    assert buttons(question) == []
    assert (question.text or "").endswith("No answer in time, so save_note was not used.")
    assert await notes(h) == []


async def test_no_closes_the_question_and_saves_nothing(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    magpie.sandbox.people.send_text(ann, magpie.account, REMEMBER)
    question = await magpie.confirmation(magpie.private(ann))
    magpie.press(ann, question, allow=False)
    await magpie.settled()
    assert buttons(question) == []
    assert (question.text or "").endswith("Ann said no; save_note was not used.")
    assert await notes(magpie) == []
