"""Bad days at the model vendors, seen through Magpie's runner against the real SDKs.

Each test scripts the fake vendors (OpenAI, Anthropic, Gemini at the wire), runs a turn through
`ModelRunner` with resilient models and fallbacks, and checks what a user or operator notices:
the answer, the reason for a failure, which vendor was asked in what order, the waits the
retry layer asked for, the breakers' state at given (fake) times, and the logs. No test reads a
wall clock.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.models import Model
from structlog.testing import LogCapture

from magpie.config import load_settings
from magpie.conversation.ports import ModelFailure
from magpie.conversation.types import Caller, Completion, Preferences, Prompt
from magpie.llm.breakers import Breakers
from magpie.llm.catalog import ModelCatalog
from magpie.llm.resilience import Resilience, resilient, with_fallbacks
from magpie.llm.runner import ModelRunner
from tests.fakes.llm_vendors import CutStream, Fail, Hang, MalformedToolCall, Reply, Step
from tests.llm.conftest import ANTHROPIC, GEMINI, OPENAI
from tests.llm.scripting import Clock, Script, Waits

QUICK = Resilience(
    retries=2,
    first_token_seconds=2.0,
    breaker_failures=5,
    breaker_reset_seconds=60.0,
    backoff_seconds=0.01,
)


@dataclass
class Turn:
    """One turn's outcome as the user sees it: every text update, then the answer or a reason."""

    shown: list[str]
    completion: Completion | None = None
    failure: ModelFailure | None = None


def events(logs: LogCapture, name: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs.entries if entry["event"] == name]


def chain(
    vendor_models: dict[str, Model],
    labels: Sequence[str],
    *,
    policy: Resilience = QUICK,
    breakers: Breakers | None = None,
    waits: Waits | None = None,
) -> ModelCatalog:
    """A catalog of resilient models, the first label first, as the app wires it."""
    shared = breakers or Breakers(clock=Clock())
    sleep = waits or Waits()
    models = {
        label: resilient(
            vendor_models[label], provider=label, policy=policy, breakers=shared, sleep=sleep
        )
        for label in labels
    }
    return ModelCatalog.of(models, chain=with_fallbacks)


async def ask(catalog: ModelCatalog, text: str = "hi") -> Turn:
    """Run one turn through Magpie's runner, keeping every text update the user would see."""
    turn = Turn(shown=[])

    async def show(update: str) -> None:
        turn.shown.append(update)

    async def status(update: str) -> None:
        return None

    prompt = Prompt(system="Answer briefly.", history=(), message=text)
    try:
        turn.completion = await ModelRunner(catalog).complete(
            prompt,
            caller=Caller(user_id=1, name="Ann", chat_id=1),
            preferences=Preferences(),
            on_text=show,
            on_status=status,
        )
    except ModelFailure as failure:
        turn.failure = failure
    return turn


def answer(turn: Turn) -> str:
    assert turn.failure is None, turn.failure.reason
    assert turn.completion is not None
    return turn.completion.text


# --- retries --------------------------------------------------------------------------------------


async def test_rate_limit_waits_out_retry_after_then_answers(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, waits: Waits
) -> None:
    script.plan("openai", Fail(429, retry_after=1), Reply("Here you go.", chunks=2))

    turn = await ask(chain(vendor_models, [OPENAI, ANTHROPIC], waits=waits))

    assert answer(turn) == "Here you go."
    assert script.vendors() == ["openai", "openai"]
    [wait] = waits.requested
    assert 1.0 <= wait <= 1.1  # the second the vendor asked for, plus up to 10 % jitter
    [retrying] = events(logs, "llm.retrying")
    assert retrying["provider"] == OPENAI
    assert retrying["attempt"] == 2
    assert retrying["error"] == "ModelRateLimitError 429"
    assert events(logs, "llm.fallback") == []


async def test_long_retry_after_falls_back_at_once(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, waits: Waits
) -> None:
    script.plan("openai", Fail(429, retry_after=120))
    script.plan("anthropic", Reply("Claude here."))

    turn = await ask(chain(vendor_models, [OPENAI, ANTHROPIC], waits=waits))

    assert answer(turn) == "Claude here."
    assert script.vendors() == ["openai", "anthropic"]
    assert waits.requested == []  # no waiting for two minutes, nor for a backoff
    assert events(logs, "llm.retrying") == []
    [fallback] = events(logs, "llm.fallback")
    assert (fallback["from"], fallback["to"]) == (OPENAI, ANTHROPIC)
    assert fallback["reason"] == "the model is rate-limited right now"


async def test_outages_are_retried_after_a_jittered_backoff_that_doubles(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, waits: Waits
) -> None:
    script.plan("openai", Fail(500), Fail(502), Fail(503), Reply("Third time lucky."))
    policy = replace(QUICK, retries=3, backoff_seconds=0.5)

    turn = await ask(chain(vendor_models, [OPENAI], policy=policy, waits=waits))

    assert answer(turn) == "Third time lucky."
    assert script.vendors() == ["openai"] * 4
    ceilings = [0.5, 1.0, 2.0]
    assert all(0 <= wait <= most for wait, most in zip(waits.requested, ceilings, strict=True))
    assert len(set(waits.requested)) == 3  # jittered, so turns retrying together spread out
    logged = [entry["wait"] for entry in events(logs, "llm.retrying")]
    assert logged == [round(wait, 2) for wait in waits.requested]


async def test_backoff_never_exceeds_ten_seconds(
    vendor_models: dict[str, Model], script: Script, waits: Waits
) -> None:
    script.plan("anthropic", *[Fail(529)] * 6)
    policy = replace(QUICK, retries=6, backoff_seconds=8.0, breaker_failures=10)

    await ask(chain(vendor_models, [ANTHROPIC], policy=policy, waits=waits))

    assert len(waits.requested) == 6
    assert waits.requested[0] <= 8.0
    assert max(waits.requested) <= 10.0  # uncapped, five of these could reach 16 to 256 s


# The vendor below would answer only after the test is over, so an answer proves the timeout;
# the timeout is real (pydantic-ai's `first_event_timeout`), long enough for any healthy answer.
SLOW = [Reply("too late", first_token_delay=600.0), Hang(seconds=600.0)]
FIRST_TOKEN_SECONDS = 1.0


@pytest.mark.parametrize("slow", SLOW, ids=["slow-first-token", "no-response-at-all"])
async def test_slow_first_token_times_out_and_is_retried(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, slow: Step
) -> None:
    script.plan("anthropic", slow, Reply("Quick this time."))
    policy = replace(QUICK, first_token_seconds=FIRST_TOKEN_SECONDS)

    turn = await ask(chain(vendor_models, [ANTHROPIC, OPENAI], policy=policy))

    assert answer(turn) == "Quick this time."
    assert "too late" not in turn.shown
    assert script.vendors() == ["anthropic", "anthropic"]
    [retrying] = events(logs, "llm.retrying")
    assert retrying["error"] == "ModelRequestTimeout"


async def test_slow_first_token_every_time_falls_back(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture
) -> None:
    slow = Reply("too late", first_token_delay=600.0)
    script.plan("openai", slow, slow)
    script.plan("gemini", Reply("Gemini answers."))
    policy = replace(QUICK, retries=1, first_token_seconds=FIRST_TOKEN_SECONDS)

    turn = await ask(chain(vendor_models, [OPENAI, GEMINI], policy=policy))

    assert answer(turn) == "Gemini answers."
    assert script.vendors() == ["openai", "openai", "gemini"]
    [fallback] = events(logs, "llm.fallback")
    assert fallback["reason"] == "the model took too long"


async def test_requests_that_are_not_streamed_are_retried_too(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture
) -> None:
    script.plan("gemini", Fail(503), Reply("Not streamed."))
    model = resilient(
        vendor_models[GEMINI], provider=GEMINI, policy=QUICK, breakers=Breakers(), sleep=Waits()
    )

    result = await Agent(model, output_type=str).run("hi")

    assert result.output == "Not streamed."
    assert script.vendors() == ["gemini", "gemini"]
    assert [entry["error"] for entry in events(logs, "llm.retrying")] == [
        "ModelOverloadedError 503"
    ]


async def test_bad_request_is_not_retried_and_does_not_open_the_breaker(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, clock: Clock
) -> None:
    script.plan("openai", Fail(400), Fail(400), Fail(400), Reply("Fixed."))
    breakers = Breakers(clock=clock)
    policy = replace(QUICK, breaker_failures=2)
    catalog = chain(vendor_models, [OPENAI], policy=policy, breakers=breakers)

    turns = [await ask(catalog) for _ in range(3)]

    assert [turn.failure.reason if turn.failure else None for turn in turns] == [
        "the model rejected the request"
    ] * 3
    assert script.vendors() == ["openai"] * 3  # one request per turn: no retries
    assert events(logs, "llm.retrying") == []
    assert events(logs, "llm.breaker_opened") == []
    assert breakers.state(OPENAI) == "closed"
    assert answer(await ask(catalog)) == "Fixed."


# --- circuit breakers ----------------------------------------------------------------------------


async def test_a_storm_of_500s_opens_the_breaker_and_the_fallback_answers(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, clock: Clock
) -> None:
    breakers = Breakers(clock=clock)
    script.plan("gemini", *[Fail(500)] * 3)
    policy = replace(QUICK, retries=0, breaker_failures=3, breaker_reset_seconds=60.0)
    catalog = chain(vendor_models, [GEMINI, OPENAI], policy=policy, breakers=breakers)

    answers = [answer(await ask(catalog, f"question {n}")) for n in range(5)]

    assert answers == [f"echo: question {n}" for n in range(5)]  # OpenAI answered every turn
    assert script.vendors().count("gemini") == 3  # turns 4 and 5 never reached Gemini
    assert breakers.state(GEMINI) == "opened"
    [opened] = events(logs, "llm.breaker_opened")
    assert opened["provider"] == GEMINI
    reasons = [entry["reason"] for entry in events(logs, "llm.fallback")]
    assert (
        reasons
        == ["the model service failed"] * 3
        + ["the model service keeps failing, so Magpie paused calls to it"] * 2
    )


async def test_an_outage_that_opens_the_breaker_ends_the_retries(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, waits: Waits
) -> None:
    script.plan("openai", Fail(500), Fail(500), Fail(500), Fail(500))
    policy = replace(QUICK, retries=3, breaker_failures=2)

    turn = await ask(chain(vendor_models, [OPENAI, GEMINI], policy=policy, waits=waits))

    assert answer(turn) == "echo: hi"  # Gemini, at once
    assert script.vendors() == ["openai", "openai", "gemini"]
    assert len(waits.requested) == 1  # no wait for a retry that could only fail
    [fallback] = events(logs, "llm.fallback")
    assert fallback["reason"] == "the model service failed"


async def test_after_the_reset_time_a_probe_closes_the_breaker(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, clock: Clock
) -> None:
    breakers = Breakers(clock=clock)
    script.plan("gemini", Fail(503), Fail(503), Reply("Gemini is back."))
    policy = replace(QUICK, retries=0, breaker_failures=2, breaker_reset_seconds=60.0)
    catalog = chain(vendor_models, [GEMINI, ANTHROPIC], policy=policy, breakers=breakers)
    for _ in range(3):
        await ask(catalog)
    assert script.vendors().count("gemini") == 2
    assert breakers.state(GEMINI) == "opened"

    clock.advance(59)
    assert breakers.state(GEMINI) == "opened"
    clock.advance(2)
    assert breakers.state(GEMINI) == "half-opened"
    turn = await ask(catalog)

    assert answer(turn) == "Gemini is back."
    assert breakers.state(GEMINI) == "closed"
    assert [entry["event"] for entry in logs.entries if "breaker" in str(entry["event"])] == [
        "llm.breaker_opened",
        "llm.breaker_half_open",
        "llm.breaker_closed",
    ]


async def test_an_error_inside_the_stream_before_any_text_is_retried(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture
) -> None:
    script.plan("anthropic", Fail(529, in_stream=True), Reply("Second try.", chunks=2))

    turn = await ask(chain(vendor_models, [ANTHROPIC, OPENAI]))

    assert answer(turn) == "Second try."
    assert all("Second try.".startswith(text) for text in turn.shown)
    assert script.vendors() == ["anthropic", "anthropic"]
    [retrying] = events(logs, "llm.retrying")
    assert retrying["error"] == "ModelOverloadedError 529"


async def test_a_failed_probe_opens_the_breaker_again(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, clock: Clock
) -> None:
    breakers = Breakers(clock=clock)
    script.plan("gemini", Fail(503), Fail(503), Fail(503))
    policy = replace(QUICK, retries=0, breaker_failures=2, breaker_reset_seconds=60.0)
    catalog = chain(vendor_models, [GEMINI, OPENAI], policy=policy, breakers=breakers)
    for _ in range(2):
        await ask(catalog)

    clock.advance(61)
    probed = await ask(catalog)
    after_probe = await ask(catalog)

    assert answer(probed) == answer(after_probe) == "echo: hi"  # OpenAI covered both turns
    assert script.vendors().count("gemini") == 3  # two failures, one probe, then nothing
    assert breakers.state(GEMINI) == "opened"
    assert len(events(logs, "llm.breaker_opened")) == 2


# --- streams and tools ---------------------------------------------------------------------------


async def test_a_stream_cut_midway_fails_without_repeating_text_or_falling_back(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture
) -> None:
    cut = CutStream(after_chunks=2, text="This answer breaks off in the middle of", chunks=4)
    script.plan("openai", cut)

    turn = await ask(chain(vendor_models, [OPENAI, ANTHROPIC]))

    assert turn.failure is not None
    assert turn.failure.reason == "the model service could not be reached"
    assert turn.shown  # the user saw the beginning of the answer...
    assert all(cut.text.startswith(text) for text in turn.shown)  # ...once, never restarted
    assert script.vendors() == ["openai"]  # no retry, no fallback
    assert events(logs, "llm.retrying") == []
    assert events(logs, "llm.fallback") == []


async def test_malformed_tool_call_json_is_recovered_by_pydantic_ai(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture
) -> None:
    script.plan("openai", MalformedToolCall("current_time", '{"timezone": '), Reply("Noon."))
    primary = resilient(
        vendor_models[OPENAI], provider=OPENAI, policy=QUICK, breakers=Breakers(), sleep=Waits()
    )
    model = with_fallbacks((OPENAI, primary), [(ANTHROPIC, vendor_models[ANTHROPIC])])
    agent = Agent(model, output_type=str)
    calls: list[str] = []

    @agent.tool_plain
    def current_time(timezone: str) -> str:
        """Current time in an IANA timezone."""
        calls.append(timezone)
        return "12:00"

    async with agent.run_stream("What time is it?") as run:
        output = await run.get_output()

    assert output == "Noon."
    assert calls == []  # the broken call never ran; the model was asked again
    assert script.vendors() == ["openai", "openai"]
    assert events(logs, "llm.retrying") == [] and events(logs, "llm.fallback") == []


async def test_everything_failing_gives_a_short_reason(
    vendor_models: dict[str, Model], script: Script
) -> None:
    script.plan("anthropic", Fail(529), Fail(529))
    script.plan("openai", Fail(500), Fail(500))
    script.plan("gemini", Fail(503), Fail(503))
    policy = replace(QUICK, retries=1)

    turn = await ask(chain(vendor_models, [ANTHROPIC, OPENAI, GEMINI], policy=policy))

    assert turn.failure is not None
    assert turn.failure.reason == "the model service is overloaded"  # the primary's reason
    assert sorted(script.vendors()) == ["anthropic"] * 2 + ["gemini"] * 2 + ["openai"] * 2


def test_policy_comes_from_settings() -> None:
    settings = load_settings(
        env_file=None,
        llm_retries=3,
        llm_first_token_seconds=12,
        llm_breaker_failures=4,
        llm_breaker_reset_seconds=30,
    )

    assert Resilience.from_settings(settings) == Resilience(
        retries=3, first_token_seconds=12, breaker_failures=4, breaker_reset_seconds=30
    )
