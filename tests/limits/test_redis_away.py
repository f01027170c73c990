"""While Redis cannot be reached, the limits go on in each process's memory: Magpie keeps
sending and answering, and says once (not per message) that Redis is away."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from magpie.limits.redis_client import connect
from magpie.limits.redis_outgoing import RedisOutgoing
from magpie.limits.redis_users import RedisCounters
from magpie.limits.users import UserLimits, UserQuota
from tests.limits.conftest import FakeClock


@pytest.fixture
async def away() -> AsyncIterator[Redis]:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = connect(f"redis://127.0.0.1:{port}/0")  # as di.py makes it
    yield client
    await client.aclose()


async def test_the_outgoing_limits_hold_in_memory_while_redis_is_away(
    away: Redis, clock: FakeClock
) -> None:
    limiter = RedisOutgoing(away, namespace="away", clock=clock)
    with capture_logs() as logs:
        waits = [(await limiter.reserve(1001, within=1e9, level="chat")).wait for _ in range(5)]
        await limiter.pause(2002, 4)
        paused = await limiter.reserve(2002, within=1e9, level="chat")
    assert waits == [0, 0, 0, 1, 2]  # still 1/s after the burst
    assert paused.wait == 4
    clock.advance(10)  # later Redis is asked again (and still away): said again only later
    assert (await limiter.reserve(3003, within=0, level="both")).taken
    said = [e for e in logs if e["event"] == "limits.redis_unavailable"]
    assert len(said) == 1 and said[0]["log_level"] == "warning"


async def test_per_user_limits_hold_in_memory_while_redis_is_away(
    away: Redis, clock: FakeClock
) -> None:
    limits = UserLimits(RedisCounters(away), UserQuota(messages_per_minute=2), clock=clock)
    with capture_logs() as logs:
        allowed = [(await limits.admit(1001)).allowed for _ in range(3)]
        await limits.spend(1001, 50)
    assert allowed == [True, True, False]
    assert len([e for e in logs if e["event"] == "limits.redis_unavailable"]) == 1
