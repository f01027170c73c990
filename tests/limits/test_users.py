"""The per-user rule in one process, on a clock the tests move: windows, admins, what is said."""

from __future__ import annotations

import asyncio
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from magpie.limits.users import MemoryCounters, UserLimits, UserQuota
from magpie.texts import ENGLISH
from tests.limits.conftest import FakeClock

ANN, BOB = 1001, 2002
MINUTE_START = (1_790_000_000 // 60) * 60


def limits(clock: FakeClock, **quota: int) -> UserLimits:
    return UserLimits(MemoryCounters(), UserQuota(**quota), clock=clock)


async def test_a_refusal_says_which_limit_and_when_to_come_back(clock: FakeClock) -> None:
    clock.now = MINUTE_START + 15
    rule = limits(clock, messages_per_minute=1)
    assert (await rule.admit(ANN)).allowed
    verdict = await rule.admit(ANN)
    assert rule.refusal_text(verdict, ENGLISH) == (
        "You've reached your limit of 1 messages a minute — I'll be glad to go on in 45 "
        "seconds. Until then I read along but don't answer."
    )


async def test_a_day_limit_names_the_time_in_utc(clock: FakeClock) -> None:
    day_start = (1_790_000_000 // 86_400) * 86_400
    clock.now = day_start + 3_600  # 01:00 UTC
    rule = limits(clock, messages_per_day=1, messages_per_minute=0)
    await rule.admit(ANN)
    verdict = await rule.admit(ANN)
    assert verdict.limit == "messages_per_day"
    assert "at 00:00 UTC" in rule.refusal_text(verdict, ENGLISH)
    assert "1 messages a day" in rule.refusal_text(verdict, ENGLISH)


async def test_tokens_are_counted_after_the_turn_and_refuse_the_next(clock: FakeClock) -> None:
    rule = limits(clock, tokens_per_minute=1_000, tokens_per_day=0)
    assert (await rule.admit(ANN)).allowed
    await rule.spend(ANN, 1_500)  # the turn that crossed the limit was allowed to finish
    verdict = await rule.admit(ANN)
    assert (verdict.allowed, verdict.limit) == (False, "tokens_per_minute")
    assert "1,000 tokens a minute" in rule.refusal_text(verdict, ENGLISH)
    assert (await rule.admit(BOB)).allowed


async def test_exempt_people_are_never_counted(clock: FakeClock) -> None:
    rule = limits(clock, messages_per_minute=1)
    assert all([(await rule.admit(ANN, exempt=True)).allowed for _ in range(5)])
    assert (await rule.admit(ANN)).allowed  # nothing was counted meanwhile


async def test_old_windows_are_forgotten(clock: FakeClock) -> None:
    counters = MemoryCounters()
    rule = UserLimits(counters, UserQuota(messages_per_day=0), clock=clock)
    for step in range(20_000):  # ten people writing every few seconds for four days
        await rule.admit(step % 10)
        clock.advance(18)
    # what is kept: the windows still open, and what came since the last sweep
    assert len(counters) <= 2 * MemoryCounters.SWEEP_EVERY + 20


STEPS = st.lists(
    st.tuples(st.sampled_from([ANN, BOB]), st.floats(0, 40), st.integers(0, 400)), max_size=150
)


@settings(max_examples=80, deadline=None)
@given(STEPS)
def test_no_window_ever_admits_more_than_its_limit_and_each_refusal_is_told_once(
    steps: list[tuple[int, float, int]],
) -> None:
    clock = FakeClock(float(MINUTE_START))
    rule = limits(clock, messages_per_minute=3, messages_per_day=20, tokens_per_minute=1_000)
    admitted: Counter[tuple[int, str]] = Counter()
    told: Counter[tuple[int, str, float]] = Counter()

    async def run() -> None:
        for user, gap, tokens in steps:
            clock.advance(gap)
            verdict = await rule.admit(user)
            minute, day = int(clock.now // 60), int(clock.now // 86_400)
            if verdict.allowed:
                admitted[(user, f"m{minute}")] += 1
                admitted[(user, f"d{day}")] += 1
                await rule.spend(user, tokens)
            else:
                assert verdict.until > clock.now
                told[(user, verdict.limit, verdict.until)] += verdict.tell

    asyncio.run(run())
    for (_, window), count in admitted.items():
        assert count <= (3 if window.startswith("m") else 20)
    assert all(count <= 1 for count in told.values())
