"""A provider's circuit breaker, step by step on a fake clock, as the retry layer uses it."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest
from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError, ModelRequestTimeout
from structlog.testing import LogCapture

from magpie.llm.breakers import Breakers, is_outage
from magpie.llm.errors import CircuitOpenError
from tests.llm.scripting import Clock

PROVIDER = "openai"
FAILURES, RESET = 3, 60.0


def http(status: int) -> ModelHTTPError:
    return ModelHTTPError(status_code=status, model_name="gpt-4o-mini")


async def call(breakers: Breakers, outcome: ModelAPIError | None = None) -> None:
    """One call through the breaker that fails with `outcome`, or answers."""
    try:
        async with breakers.guard(PROVIDER, failures=FAILURES, reset_seconds=RESET):
            if outcome is not None:
                raise outcome
    except ModelAPIError as error:
        if error is not outcome:
            raise


def names(logs: LogCapture) -> list[str]:
    entries: list[MutableMapping[str, Any]] = logs.entries
    return [entry["event"] for entry in entries]


@pytest.fixture
def breakers(clock: Clock) -> Breakers:
    return Breakers(clock=clock)


async def test_consecutive_outages_open_it_and_calls_then_fail_at_once(
    breakers: Breakers, clock: Clock, logs: LogCapture
) -> None:
    for _ in range(FAILURES - 1):
        await call(breakers, http(503))
    assert breakers.state(PROVIDER) == "closed"

    await call(breakers, http(500))

    assert breakers.state(PROVIDER) == "opened"
    clock.advance(15)
    with pytest.raises(CircuitOpenError) as paused:
        await call(breakers)
    assert paused.value.retry_in == RESET - 15
    assert paused.value.provider == PROVIDER
    assert names(logs) == ["llm.breaker_opened"]


async def test_an_answer_in_between_starts_the_count_again(breakers: Breakers) -> None:
    for _ in range(FAILURES - 1):
        await call(breakers, http(503))
    await call(breakers)
    for _ in range(FAILURES - 1):
        await call(breakers, ModelRequestTimeout("gpt-4o-mini", 20))

    assert breakers.state(PROVIDER) == "closed"


async def test_errors_that_are_the_request_s_fault_do_not_count(breakers: Breakers) -> None:
    for _ in range(FAILURES * 2):
        await call(breakers, http(400))

    assert breakers.state(PROVIDER) == "closed"


async def test_after_the_reset_time_one_probe_goes_through_and_its_answer_closes_it(
    breakers: Breakers, clock: Clock, logs: LogCapture
) -> None:
    for _ in range(FAILURES):
        await call(breakers, http(503))
    clock.advance(RESET - 1)
    assert breakers.state(PROVIDER) == "opened"
    clock.advance(1)
    assert breakers.state(PROVIDER) == "half-opened"
    probe_running, probe_may_finish = asyncio.Event(), asyncio.Event()

    async def probe() -> None:
        async with breakers.guard(PROVIDER, failures=FAILURES, reset_seconds=RESET):
            probe_running.set()
            await probe_may_finish.wait()

    probing = asyncio.create_task(probe())
    await probe_running.wait()
    with pytest.raises(CircuitOpenError) as second:  # one probe at a time
        await call(breakers)
    assert second.value.retry_in == 0
    probe_may_finish.set()
    await probing

    assert breakers.state(PROVIDER) == "closed"
    await call(breakers)  # calls flow again
    assert names(logs) == ["llm.breaker_opened", "llm.breaker_half_open", "llm.breaker_closed"]


async def test_a_failed_probe_opens_it_for_another_reset_time(
    breakers: Breakers, clock: Clock, logs: LogCapture
) -> None:
    for _ in range(FAILURES):
        await call(breakers, http(503))
    clock.advance(RESET + 5)

    await call(breakers, http(502))

    assert breakers.state(PROVIDER) == "opened"
    clock.advance(RESET - 1)
    assert breakers.state(PROVIDER) == "opened"  # counted from the probe, not the first opening
    clock.advance(1)
    assert breakers.state(PROVIDER) == "half-opened"
    assert names(logs).count("llm.breaker_opened") == 2


async def test_a_probe_cut_short_by_the_caller_lets_the_next_call_probe(
    breakers: Breakers, clock: Clock
) -> None:
    for _ in range(FAILURES):
        await call(breakers, http(503))
    clock.advance(RESET)

    with pytest.raises(asyncio.CancelledError):
        async with breakers.guard(PROVIDER, failures=FAILURES, reset_seconds=RESET):
            raise asyncio.CancelledError  # e.g. /stop: nothing learned about the provider

    assert breakers.state(PROVIDER) == "half-opened"
    await call(breakers)
    assert breakers.state(PROVIDER) == "closed"


async def test_providers_have_breakers_of_their_own(breakers: Breakers) -> None:
    for _ in range(FAILURES):
        await call(breakers, http(503))

    async with breakers.guard("anthropic", failures=FAILURES, reset_seconds=RESET):
        pass

    assert (breakers.state(PROVIDER), breakers.state("anthropic")) == ("opened", "closed")


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (http(429), True),
        (http(408), True),
        (http(500), True),
        (http(529), True),
        (ModelRequestTimeout("m", 5), True),
        (http(400), False),
        (http(401), False),
        (http(404), False),
        (CircuitOpenError("openai", retry_in=3), False),
    ],
)
def test_only_outages_trip_it(error: ModelAPIError, outage: bool) -> None:
    assert is_outage(error) is outage
