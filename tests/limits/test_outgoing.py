"""The outgoing limiter in one process, on a clock the tests move: what may go when."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magpie.limits.outgoing import FloodSignals, Level, MemoryOutgoing, OutgoingRates
from magpie.limits.rates import Rate
from tests.limits.conftest import FakeClock

ANN, GROUP = 1001, -100_200
FOREVER = 1e9


async def waits(
    limiter: MemoryOutgoing, chat: int | None, n: int, *, level: Level = "both"
) -> list[float]:
    return [(await limiter.reserve(chat, within=FOREVER, level=level)).wait for _ in range(n)]


async def test_a_chat_gets_its_burst_then_one_message_a_second(clock: FakeClock) -> None:
    limiter = MemoryOutgoing(clock=clock)
    assert await waits(limiter, ANN, 5) == [0, 0, 0, 1, 2]


async def test_a_group_gets_twenty_a_minute_after_its_burst(clock: FakeClock) -> None:
    limiter = MemoryOutgoing(clock=clock)
    scheduled = await waits(limiter, GROUP, 8)
    # 1/s per chat (burst 3) until the group's burst of 5 is spent, then one every 3 s
    assert scheduled == [0, 0, 0, 1, 2, 3, 6, 9]


async def test_the_bot_as_a_whole_keeps_to_thirty_a_second(clock: FakeClock) -> None:
    limiter = MemoryOutgoing(clock=clock)
    scheduled = [(await limiter.reserve(chat, within=FOREVER)).wait for chat in range(1, 41)]
    assert scheduled[:10] == [0] * 10  # the bot's burst
    assert scheduled[39] == pytest.approx(30 / 30, abs=1e-5)  # then one every 1/30 s
    assert scheduled == sorted(scheduled)  # in the order they asked


async def test_a_preview_is_skipped_when_there_is_no_room_now_and_takes_nothing(
    clock: FakeClock,
) -> None:
    limiter = MemoryOutgoing(clock=clock)
    await waits(limiter, ANN, 3)
    preview = await limiter.reserve(ANN, within=0)
    assert (preview.taken, preview.wait) == (False, 1.0)
    final = await limiter.reserve(ANN, within=FOREVER)
    assert (final.taken, final.wait) == (True, 1.0)  # the skipped preview cost it nothing
    clock.advance(2)
    assert (await limiter.reserve(ANN, within=0)).taken


async def test_a_final_message_too_far_in_the_queue_is_refused(clock: FakeClock) -> None:
    limiter = MemoryOutgoing(clock=clock)
    await waits(limiter, ANN, 40)  # 37 s of queue in one chat
    slot = await limiter.reserve(ANN, within=30)
    assert not slot.taken and slot.wait == pytest.approx(38)


async def test_a_pause_holds_its_chat_or_the_whole_bot(clock: FakeClock) -> None:
    limiter = MemoryOutgoing(clock=clock)
    await limiter.pause(ANN, 5)
    assert (await limiter.reserve(ANN, within=FOREVER, level="chat")).wait == 5
    for level in ("chat", "bot"):  # another chat goes on meanwhile: nothing holds it up
        assert (await limiter.reserve(2002, within=FOREVER, level=level)).wait == 0
    assert not (await limiter.reserve(ANN, within=0, level="both")).taken  # no preview either
    await limiter.pause(None, 7)
    assert (await limiter.reserve(3003, within=FOREVER, level="chat")).wait == 0
    assert (await limiter.reserve(3003, within=FOREVER, level="bot")).wait == 7
    assert (await limiter.reserve(None, within=FOREVER, level="bot")).wait == 7
    clock.advance(7)
    assert (await limiter.reserve(4004, within=0, level="both")).taken


async def test_a_chat_with_a_queue_does_not_hold_up_the_others(clock: FakeClock) -> None:
    """Its messages take their bot-wide moment only once their chat's moment has come."""
    limiter = MemoryOutgoing(clock=clock)
    assert await waits(limiter, ANN, 10, level="chat") == [0, 0, 0, 1, 2, 3, 4, 5, 6, 7]
    assert (await limiter.reserve(2002, within=0, level="both")).taken


async def test_no_limit_where_a_rate_is_zero(clock: FakeClock) -> None:
    rates = OutgoingRates(chat=Rate(0), group=Rate(0), bot=Rate(0))
    limiter = MemoryOutgoing(rates, clock=clock)
    assert await waits(limiter, GROUP, 100) == [0] * 100


async def test_buckets_at_rest_are_forgotten(clock: FakeClock) -> None:
    limiter = MemoryOutgoing(clock=clock)
    for chat in range(1, MemoryOutgoing.SWEEP_EVERY * 5):
        await limiter.reserve(chat, within=FOREVER)
        clock.advance(1 / 30)
    # 20,000 chats written to; what is kept is what arrived since the last sweep, and the few
    # buckets still busy
    assert len(limiter) <= MemoryOutgoing.SWEEP_EVERY + 60


def test_a_429_pauses_its_chat_until_several_chats_get_them_at_once() -> None:
    clock = FakeClock()
    signals = FloodSignals(chats=3, window=1.0, clock=clock)
    assert signals.scope(ANN) == ANN
    assert signals.scope(ANN) == ANN  # the same chat again is still that chat's limit
    clock.advance(0.5)
    assert signals.scope(2002) == 2002
    assert signals.scope(3003) is None  # three chats within a second: the bot's limit
    clock.advance(5)
    assert signals.scope(4004) == 4004
    assert signals.scope(None) is None  # a call to no chat: the bot


CHATS = st.sampled_from([ANN, 2002, GROUP, -100_300, None])
LEVELS = st.sampled_from(["chat", "bot", "both"])
STEPS = st.lists(
    st.tuples(CHATS, st.sampled_from([0.0, 2.0, FOREVER]), st.floats(0, 2), LEVELS),
    max_size=120,
)


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_whatever_is_asked_what_is_taken_keeps_to_every_bucket(
    steps: list[tuple[int | None, float, float, Level]],
) -> None:
    """Property: the moments handed out never exceed any bucket's rate plus its burst."""
    import asyncio

    clock = FakeClock(0.0)
    rates = OutgoingRates()
    limiter = MemoryOutgoing(rates, clock=clock)
    sent: dict[str, list[float]] = {}

    async def run() -> None:
        for chat, within, gap, level in steps:
            clock.advance(gap)
            slot = await limiter.reserve(chat, within=within, level=level)
            assert slot.wait <= within or not slot.taken
            if slot.taken:
                for key, _ in rates.buckets(chat, level):
                    sent.setdefault(key, []).append(clock.now + slot.wait)

    asyncio.run(run())
    for key, times in sent.items():
        rate = dict(rates.buckets(None if key == "bot" else int(key.split(":")[1])))[key]
        times.sort()
        for i in range(len(times)):
            for j in range(i, len(times)):
                allowed = rate.burst + (times[j] - times[i]) / rate.interval
                assert j - i + 1 <= allowed + 1e-6, (key, times[i], times[j])


async def test_previews_leave_room_for_the_final_answer(clock: FakeClock) -> None:
    limiter = MemoryOutgoing(clock=clock)  # 3 back to back in a chat
    previews = [
        (await limiter.reserve(ANN, within=0, level="both", spare=1)).taken for _ in range(3)
    ]
    assert previews == [True, True, False]  # the third would have used the last token
    final = await limiter.reserve(ANN, within=FOREVER, level="both")
    assert (final.taken, final.wait) == (True, 0)  # so the answer goes at once


async def test_with_no_burst_to_spare_a_preview_still_goes_when_there_is_room(
    clock: FakeClock,
) -> None:
    rates = OutgoingRates(chat=Rate(1, 1.0, burst=1))
    limiter = MemoryOutgoing(rates, clock=clock)
    assert (await limiter.reserve(ANN, within=0, level="both", spare=1)).taken
