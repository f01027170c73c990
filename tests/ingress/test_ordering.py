"""Which updates wait for which: one lane per conversation (chat or topic); stops skip ahead."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from magpie.ingress.ordering import ChatQueues, conversation_of, is_urgent

WHEN = datetime(2026, 1, 1, tzinfo=UTC)
FORUM = Chat(id=-100, type="supergroup", is_forum=True)


def update_with(text: str | None) -> Update:
    message = Message(message_id=1, date=WHEN, chat=Chat(id=5, type="private"), text=text)
    return Update(update_id=1, message=message)


def in_topic(thread: int | None, *, message_id: int = 1) -> Message:
    return Message(
        message_id=message_id,
        date=WHEN,
        chat=FORUM,
        text="hi",
        message_thread_id=thread,
        is_topic_message=thread is not None or None,
    )


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("/stop", True),
        ("/STOP@Magpie_Bot", True),
        ("/stop@other_bot", False),
        ("/stopwatch", False),
        ("stop", False),
        ("   ", False),
        ("", False),
        (None, False),
    ],
)
def test_only_stop_requests_skip_the_queue(text: str | None, urgent: bool) -> None:
    assert is_urgent(update_with(text), "magpie_bot") is urgent
    assert conversation_of(update_with(text)) == (5, 0)


def test_each_forum_topic_is_its_own_lane() -> None:
    lanes = {
        conversation_of(Update(update_id=i, message=in_topic(thread)))
        for i, thread in enumerate([7, 7, 9, None])
    }
    assert lanes == {(-100, 7), (-100, 9), (-100, 0)}


def test_a_button_waits_in_the_lane_of_the_message_it_is_on() -> None:
    """Answering a question resumes a turn: it takes its place in that topic's order."""
    query = CallbackQuery(
        id="q",
        from_user=User(id=1, is_bot=False, first_name="Ann"),
        chat_instance="c",
        message=in_topic(9, message_id=40),
        data="approve:1:yes",
    )
    update = Update(update_id=1, callback_query=query)
    assert conversation_of(update) == (-100, 9)
    assert not is_urgent(update, "magpie_bot")


async def test_a_busy_topic_holds_up_only_itself() -> None:
    queues = ChatQueues()
    release = asyncio.Event()
    done: list[str] = []
    others = {name: asyncio.Event() for name in ("b1", "c1")}

    async def slow() -> None:
        await release.wait()
        done.append("a1")

    async def job(name: str) -> None:
        done.append(name)
        if name in others:
            others[name].set()

    queues.submit((-100, 7), slow)
    queues.submit((-100, 7), lambda: job("a2"))  # same topic: waits for a1
    queues.submit((-100, 9), lambda: job("b1"))  # another topic: goes on
    queues.submit((-200, 0), lambda: job("c1"))  # another chat: goes on
    async with asyncio.timeout(5):  # a guard against hanging, not a measurement
        await asyncio.gather(*(event.wait() for event in others.values()))
    assert sorted(done) == ["b1", "c1"]
    release.set()
    await queues.join()
    assert done[2:] == ["a1", "a2"]


async def test_shutting_down_starts_nothing_new_and_cuts_only_what_overruns_the_grace() -> None:
    queues = ChatQueues()
    started: list[str] = []
    quick_started, slow_started = asyncio.Event(), asyncio.Event()
    finish_quick = asyncio.Event()

    async def quick() -> None:
        started.append("quick")
        quick_started.set()
        await finish_quick.wait()

    async def slow() -> None:
        started.append("slow")
        slow_started.set()
        await asyncio.Event().wait()  # never finishes by itself

    async def later(name: str) -> None:
        started.append(name)

    queues.submit((1, 0), quick)
    queues.submit((1, 0), lambda: later("queued behind quick"))
    queues.submit((2, 0), slow)
    async with asyncio.timeout(5):
        await quick_started.wait()
        await slow_started.wait()
    settling = asyncio.create_task(queues.settle(grace=0.2))
    await asyncio.sleep(0)  # settle has begun: nothing new may start from here on
    queues.submit((3, 0), lambda: later("arrived during shutdown"))
    finish_quick.set()
    assert await settling == 1  # the slow one was cut short; the quick one finished
    assert started == ["quick", "slow"]  # the queued job and the late one stay for next start


async def test_a_full_backlog_holds_back_fetching_until_an_update_is_handled() -> None:
    queues = ChatQueues(max_backlog=3)
    release = asyncio.Event()

    async def blocked() -> None:
        await release.wait()

    for chat in (1, 2):
        queues.submit((chat, 0), blocked)
    queues.submit((1, 0), blocked)  # waits behind chat 1's first: counted all the same
    room = asyncio.ensure_future(queues.room())
    await asyncio.sleep(0)  # let it start waiting (a scheduling step, not a timing)
    assert not room.done()
    assert queues.backlog == 3
    release.set()
    async with asyncio.timeout(5):  # a guard against hanging, not a measurement
        await room
        await queues.join()
    assert queues.backlog == 0


async def test_updates_left_queued_by_a_shutdown_free_the_backlog() -> None:
    queues = ChatQueues(max_backlog=2)
    started, release = asyncio.Event(), asyncio.Event()

    async def running() -> None:
        started.set()
        await release.wait()

    queues.submit((1, 0), running)
    queues.submit((1, 0), running)  # queued behind it
    async with asyncio.timeout(5):  # a guard against hanging, not a measurement
        await started.wait()
        assert await queues.settle(0) == 1  # the running one is cut; the queued one never starts
        await queues.room()
    assert queues.backlog == 0
