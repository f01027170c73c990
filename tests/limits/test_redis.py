"""The limits in the real Redis (MAGPIE_TEST_REDIS_URL): several instances — as several Magpie
processes would have — share one budget. Times come from a clock the tests move."""

from __future__ import annotations

import asyncio
import os

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from magpie.limits.outgoing import MemoryOutgoing, OutgoingLimiter
from magpie.limits.redis_client import connect
from magpie.limits.redis_outgoing import RedisOutgoing
from magpie.limits.redis_users import RedisCounters
from magpie.limits.users import UserLimits, UserQuota
from tests.limits.conftest import FakeClock

pytestmark = pytest.mark.redis
ANN, GROUP = 1001, -100_200
FOREVER = 1e9


def two(redis: Redis, namespace: str, clock: FakeClock) -> tuple[RedisOutgoing, RedisOutgoing]:
    return (
        RedisOutgoing(redis, namespace=namespace, clock=clock),
        RedisOutgoing(redis, namespace=namespace, clock=clock),
    )


async def test_two_processes_share_one_chat_budget(
    redis: Redis, namespace: str, clock: FakeClock
) -> None:
    first, second = two(redis, namespace, clock)
    waits = [
        (await limiter.reserve(ANN, within=FOREVER, level="chat")).wait
        for limiter in (first, second, first, second, first)
    ]
    assert waits == pytest.approx([0, 0, 0, 1, 2], abs=1e-6)  # as one process would have it


async def test_redis_hands_out_the_same_moments_as_memory(
    redis: Redis, namespace: str, clock: FakeClock
) -> None:
    shared, alone = (
        RedisOutgoing(redis, namespace=namespace, clock=clock),
        MemoryOutgoing(clock=clock),
    )
    asks = [(GROUP, "chat"), (ANN, "both"), (GROUP, "chat"), (None, "bot")] * 6

    async def moments(limiter: OutgoingLimiter) -> list[tuple[bool, float]]:
        found = []
        for chat, level in asks:
            slot = await limiter.reserve(chat, within=10.0, level=level)  # type: ignore[arg-type]
            found.append((slot.taken, round(slot.wait, 6)))
            clock.advance(0.25)
        return found

    start = clock.now
    from_redis = await moments(shared)
    clock.now = start
    assert from_redis == await moments(alone)


async def test_the_bot_budget_is_shared_and_a_preview_takes_nothing_without_room(
    redis: Redis, namespace: str, clock: FakeClock
) -> None:
    first, second = two(redis, namespace, clock)
    for chat in range(1, 11):  # the bot's burst of 10, spent from both
        limiter = first if chat % 2 else second
        assert (await limiter.reserve(chat, within=0, level="both")).taken
    preview = await second.reserve(11, within=0, level="both")
    assert not preview.taken and preview.wait == pytest.approx(1 / 30, abs=1e-4)
    # the refused preview took nothing: chat 11 still has its whole burst
    clock.advance(1)
    assert [(await first.reserve(11, within=0, level="chat")).taken for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


async def test_a_pause_from_one_process_holds_the_other(
    redis: Redis, namespace: str, clock: FakeClock
) -> None:
    first, second = two(redis, namespace, clock)
    await first.pause(ANN, 5)
    assert (await second.reserve(ANN, within=FOREVER, level="chat")).wait == pytest.approx(5)
    assert (await second.reserve(2002, within=FOREVER, level="chat")).wait == 0
    await second.pause(None, 7)
    assert (await first.reserve(2002, within=FOREVER, level="bot")).wait == pytest.approx(7)
    await first.pause(None, 2)  # a shorter pause does not shorten the one in force
    assert (await second.reserve(3003, within=FOREVER, level="bot")).wait == pytest.approx(7)


async def test_bots_on_one_redis_do_not_share(
    redis: Redis, namespace: str, clock: FakeClock
) -> None:
    one = RedisOutgoing(redis, namespace=f"{namespace}-a", clock=clock)
    other = RedisOutgoing(redis, namespace=f"{namespace}-b", clock=clock)
    await one.pause(None, 60)
    assert (await other.reserve(ANN, within=0, level="both")).taken


async def test_keys_expire_once_their_buckets_are_at_rest(
    redis: Redis, namespace: str, clock: FakeClock
) -> None:
    limiter = RedisOutgoing(redis, namespace=namespace, clock=clock)
    await limiter.reserve(ANN, within=0, level="both")
    ttls = [await redis.pttl(key) async for key in redis.scan_iter(f"magpie:out:{namespace}:*")]
    assert len(ttls) == 2 and all(0 < ttl <= 3000 for ttl in ttls)


def limits(redis: Redis, prefix: str, clock: FakeClock, **quota: int) -> UserLimits:
    return UserLimits(RedisCounters(redis, prefix=prefix), UserQuota(**quota), clock=clock)


async def test_several_processes_share_a_persons_message_limits(
    redis: Redis, namespace: str, clock: FakeClock
) -> None:
    minute = (1_790_000_000 // 60) * 60
    clock.now = minute + 40.0  # 40 s into a minute
    quota = {"messages_per_minute": 3, "messages_per_day": 5}
    first, second = (limits(redis, f"{namespace}:", clock, **quota) for _ in range(2))
    verdicts = [await limiter.admit(ANN) for limiter in (first, second, first, second, first)]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert (verdicts[3].limit, verdicts[3].until, verdicts[3].tell) == (
        "messages_per_minute",
        minute + 60.0,
        True,
    )
    assert not verdicts[4].tell  # told once, in whichever process
    assert (await second.admit(2002)).allowed  # another person is not held
    clock.advance(20)  # a new minute
    assert (await first.admit(ANN)).allowed and (await second.admit(ANN)).allowed
    day = await first.admit(ANN)  # the sixth today
    assert (day.allowed, day.limit, day.tell) == (False, "messages_per_day", True)
    assert day.until == (minute // 86_400 + 1) * 86_400


async def test_tokens_spent_in_one_process_count_in_another(
    redis: Redis, namespace: str, clock: FakeClock
) -> None:
    first, second = (
        limits(redis, f"{namespace}:", clock, tokens_per_minute=1000, tokens_per_day=0)
        for _ in range(2)
    )
    assert (await first.admit(ANN)).allowed
    await first.spend(ANN, 600)
    assert (await second.admit(ANN)).allowed
    await second.spend(ANN, 500)  # over now: the turn that went over was allowed to finish
    refused = await first.admit(ANN)
    assert (refused.allowed, refused.limit) == (False, "tokens_per_minute")
    keys = [key async for key in redis.scan_iter(f"{namespace}:*")]
    ttls = [await redis.ttl(key) for key in keys]
    assert keys and all(ttl > 0 for ttl in ttls)  # nothing is kept for ever


async def test_previews_leave_room_for_the_final_answer_in_redis_too(
    redis: Redis, namespace: str, clock: FakeClock
) -> None:
    first, second = two(redis, namespace, clock)
    assert (await first.reserve(ANN, within=0, level="both", spare=1)).taken
    assert (await second.reserve(ANN, within=0, level="both", spare=1)).taken
    assert not (await first.reserve(ANN, within=0, level="both", spare=1)).taken
    assert (await second.reserve(ANN, within=FOREVER, level="both")).wait == 0


async def test_on_redis_own_clock_processes_agree_without_a_clock_of_their_own(
    redis: Redis, namespace: str
) -> None:
    first = RedisOutgoing(redis, namespace=namespace)  # as di.py makes it: Redis's TIME
    second = RedisOutgoing(redis, namespace=namespace)
    slots = [
        await limiter.reserve(ANN, within=FOREVER, level="chat")
        for limiter in (first, second, first, second)
    ]
    assert [slot.wait for slot in slots[:3]] == [0, 0, 0]
    assert 0 < slots[3].wait <= 1  # the fourth goes a second after the first, less time passed


async def test_a_thousand_sends_at_once_queue_for_connections_and_keep_to_the_rate(
    namespace: str, redis: Redis
) -> None:
    """Regression: with a pool that refused past its size ("Too many connections"), a burst of
    sends fell back to per-process limits and went out too fast."""
    client = connect(os.environ["MAGPIE_TEST_REDIS_URL"])  # as di.py makes it
    limiter = RedisOutgoing(client, namespace=namespace)
    try:
        with capture_logs() as logs:
            slots = await asyncio.gather(
                *(limiter.reserve(chat, within=FOREVER, level="bot") for chat in range(1, 1001))
            )
    finally:
        await client.aclose()
    assert [e for e in logs if e["event"] == "limits.redis_unavailable"] == []
    assert all(slot.taken for slot in slots)
    assert max(slot.wait for slot in slots) > 30  # 990 past the burst, at 30/s
