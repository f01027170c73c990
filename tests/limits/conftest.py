"""A clock the tests move by hand, and the real Redis (MAGPIE_TEST_REDIS_URL) when there is one."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.conftest import missing


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    url = os.environ.get("MAGPIE_TEST_REDIS_URL")
    if not url:
        missing("Redis (MAGPIE_TEST_REDIS_URL)", "MAGPIE_REQUIRE_SERVICES")
    client = Redis.from_url(url)
    try:
        await client.ping()
    except OSError:
        await client.aclose()
        missing(f"Redis at {url}", "MAGPIE_REQUIRE_SERVICES")
    yield client
    await client.aclose()


@pytest.fixture
def namespace() -> str:
    """Keys of one test only: other suites may share the test database."""
    return f"test-{uuid.uuid4().hex[:12]}"
