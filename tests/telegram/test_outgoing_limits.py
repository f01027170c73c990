"""The sending path with the outgoing limiter, against the sandbox's Telegram-like flood control
on one manual clock (the limiter's and the sandbox's): what Telegram would see, and that it never
has to say 429 — without a second of real waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter
from structlog.testing import capture_logs
from tg_sandbox import FloodPolicy, ManualClock, Sandbox, User

from magpie.limits.outgoing import FloodSignals, MemoryOutgoing
from magpie.observability.metrics import Metrics
from magpie.telegram.delivery import Delivery, DeliveryPolicy, Shed, best_effort
from tests.fakes.virtual_time import VirtualTime

TOKEN = "7000000001:SANDBOX-limits"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(clock=ManualClock(), flood=FloodPolicy(), anti_spin=False) as running:
        running.add_bot(token=TOKEN, username="magpie_bot")
        yield running


class Sending:
    """A bot whose sending path runs on the sandbox's manual clock."""

    def __init__(self, sandbox: Sandbox) -> None:
        clock = sandbox.world.clock
        assert isinstance(clock, ManualClock)
        self.time = VirtualTime(clock.now, clock.advance)
        self.metrics = Metrics()
        self.limiter = MemoryOutgoing(clock=clock.now)
        session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url))
        self.bot = Bot(TOKEN, session=session)
        self.delivery = Delivery(
            self.metrics,
            DeliveryPolicy(max_queue_seconds=120),
            limiter=self.limiter,
            signals=FloodSignals(clock=clock.now),
            sleep=self.time.sleep,
        )
        self.bot.session.middleware(self.delivery)

    def count(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def sending(sandbox: Sandbox) -> AsyncIterator[Sending]:
    made = Sending(sandbox)
    yield made
    await made.bot.session.close()


def people(sandbox: Sandbox, n: int) -> list[User]:
    found = []
    for i in range(n):
        person = sandbox.add_user(f"Person {i}")
        sandbox.people.send_text(person, sandbox.bot("magpie_bot"), "/start")
        found.append(person)
    return found


def refused(sandbox: Sandbox) -> list[int | None]:
    return [e.error_code for e in sandbox.transcript() if not e.ok]


async def test_many_answers_in_one_chat_go_at_telegrams_pace_with_no_429(
    sandbox: Sandbox, sending: Sending
) -> None:
    (ann,) = people(sandbox, 1)
    start = sandbox.world.clock.now()
    await sending.time.run(sending.bot.send_message(ann.id, f"answer {i}") for i in range(8))
    sent = sandbox.transcript(method="sendMessage")
    assert sorted(str(e.params["text"]) for e in sent) == [f"answer {i}" for i in range(8)]
    assert refused(sandbox) == []  # the sandbox's flood control never had to say no
    assert [round(e.at - start, 6) for e in sent] == [0, 0, 0, 1, 2, 3, 4, 5]  # burst, then 1/s


async def test_a_group_gets_its_burst_then_one_message_every_three_seconds(
    sandbox: Sandbox, sending: Sending
) -> None:
    (ann,) = people(sandbox, 1)
    group = sandbox.add_group("Trip", members=[ann])
    sandbox.add_bot_to_chat(sandbox.bot("magpie_bot"), group)
    start = sandbox.world.clock.now()
    await sending.time.run(sending.bot.send_message(group.id, f"news {i}") for i in range(25))
    times = [round(e.at - start, 6) for e in sandbox.transcript(method="sendMessage")]
    assert refused(sandbox) == []
    assert len(times) == 25 and times[:6] == [0, 0, 0, 1, 2, 3]
    assert times[-1] == 3 + 19 * 3  # 20 a minute once the burst is spent


async def test_a_preview_without_room_is_skipped_before_it_reaches_telegram(
    sandbox: Sandbox, sending: Sending
) -> None:
    (ann,) = people(sandbox, 1)
    for i in range(3):
        await sending.bot.send_message(ann.id, f"answer {i}")
    with best_effort(), pytest.raises(Shed) as shed:
        await sending.bot.send_message_draft(ann.id, 1, text="still writing…")
    # room for the preview and one spare for the answer comes back in 2 s
    assert isinstance(shed.value, TelegramRetryAfter) and shed.value.retry_after == 2
    assert sandbox.transcript(method="sendMessageDraft") == []  # nothing was sent
    assert sending.count("magpie_telegram_previews_shed_total", method="SendMessageDraft") == 1
    assert sending.time.asked == []  # and nothing waited


async def test_a_429_pauses_that_chat_and_the_message_goes_once_it_is_over(
    sandbox: Sandbox, sending: Sending
) -> None:
    ann, bob = people(sandbox, 2)
    sandbox.inject("sendMessage", status=429, retry_after=5)
    start = sandbox.world.clock.now()
    with capture_logs() as logs:
        await sending.time.run([sending.bot.send_message(ann.id, "after the pause")])
    await sending.time.run([sending.bot.send_message(bob.id, "straight away")])
    delivered = {str(e.params["text"]): e.at - start for e in sandbox.transcript() if e.ok}
    assert delivered == {"after the pause": 5, "straight away": 5}  # Bob was not held up by Ann
    assert sending.time.asked == [5]
    (paused,) = [e for e in logs if e["event"] == "telegram.paused"]
    assert (paused["scope"], paused["seconds"]) == ("chat", 5)
    assert sending.count("magpie_telegram_paused_total", scope="chat") == 1


async def test_a_429_storm_across_chats_pauses_the_whole_bot_and_nothing_is_lost(
    sandbox: Sandbox, sending: Sending
) -> None:
    crowd = people(sandbox, 60)
    sandbox.inject("sendMessage", status=429, retry_after=3, times=12)
    start = sandbox.world.clock.now()
    await sending.time.run(sending.bot.send_message(p.id, "news") for p in crowd)
    delivered = [e for e in sandbox.transcript(method="sendMessage") if e.ok]
    assert sorted(int(e.params["chat_id"]) for e in delivered) == sorted(p.id for p in crowd)
    assert refused(sandbox).count(429) == 12  # only the injected ones: none from flood control
    assert sending.count("magpie_telegram_paused_total", scope="bot") >= 1
    assert max(e.at for e in delivered) - start >= 3  # the storm was waited out
    assert (
        sending.count("magpie_telegram_undelivered_total", method="SendMessage", reason="flood")
        == 0
    )
