"""Resilient models called directly, as a tool loop on `pydantic_ai.direct` calls them.

No agent run is involved: each test opens `model_request_stream` (or `model_request`) on
Magpie's resilient models and fallback chains over the real SDKs and the fake vendors, and
checks every event the caller receives, what reached the vendors, the waits asked for, the
breakers at given fake times, and the logs.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any

import pytest
from pydantic_ai.direct import model_request, model_request_stream
from pydantic_ai.exceptions import ModelConnectionError
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolCallPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.tools import ToolDefinition
from structlog.testing import LogCapture

from magpie.llm.breakers import Breakers
from magpie.llm.errors import CircuitOpenError
from magpie.llm.resilience import Resilience, resilient, with_fallbacks
from tests.fakes.llm_vendors import CutStream, Fail, Hang, Reply, ToolCall
from tests.llm.conftest import ANTHROPIC, GEMINI, OPENAI
from tests.llm.scripting import Clock, Script, Waits

POLICY = Resilience(
    retries=2, first_token_seconds=5.0, breaker_failures=5, breaker_reset_seconds=60.0
)
HI = [ModelRequest.user_text_prompt("hi")]
# A real timeout (pydantic-ai's `first_event_timeout`), long enough for any healthy local answer.
FIRST_TOKEN_SECONDS = 1.0


def events(logs: LogCapture, name: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs.entries if entry["event"] == name]


def text_of(events: list[ModelResponseStreamEvent]) -> str:
    """The text a caller rebuilds from the events alone, as a streaming UI does."""
    pieces: list[str] = []
    for event in events:
        if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
            pieces.append(event.part.content)
        elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
            pieces.append(event.delta.content_delta)
    return "".join(pieces)


def answer_of(response: ModelResponse) -> str:
    return "".join(part.content for part in response.parts if isinstance(part, TextPart))


async def stream(
    model: Model, parameters: ModelRequestParameters | None = None
) -> tuple[list[ModelResponseStreamEvent], ModelResponse]:
    """Every event of one streamed request, and the response they make up."""
    async with model_request_stream(model, HI, model_request_parameters=parameters) as response:
        seen = [event async for event in response]
    return seen, response.get()


async def test_an_overload_before_the_first_event_is_retried_and_no_event_is_lost(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, waits: Waits
) -> None:
    script.plan("anthropic", Fail(529, in_stream=True), Reply("Second try.", chunks=3))
    model = resilient(
        vendor_models[ANTHROPIC],
        provider=ANTHROPIC,
        policy=POLICY,
        breakers=Breakers(),
        sleep=waits,
    )

    seen, response = await stream(model)

    assert answer_of(response) == "Second try."
    assert text_of(seen) == "Second try."  # the event that was waited for is handed on too
    assert script.vendors() == ["anthropic", "anthropic"]
    assert len(waits.requested) == 1
    [retrying] = events(logs, "llm.retrying")
    assert retrying["error"] == "ModelOverloadedError 529"


async def test_a_tool_call_as_the_first_event_reaches_the_caller(
    vendor_models: dict[str, Model], script: Script, waits: Waits
) -> None:
    script.plan("openai", Fail(503), ToolCall("current_time", {"timezone": "UTC"}))
    model = resilient(
        vendor_models[OPENAI], provider=OPENAI, policy=POLICY, breakers=Breakers(), sleep=waits
    )
    tool = ToolDefinition(
        name="current_time",
        description="Current time in an IANA timezone.",
        parameters_json_schema={
            "type": "object",
            "properties": {"timezone": {"type": "string"}},
            "required": ["timezone"],
        },
    )

    seen, response = await stream(model, ModelRequestParameters(function_tools=[tool]))

    [call] = [part for part in response.parts if isinstance(part, ToolCallPart)]
    assert (call.tool_name, call.args_as_dict()) == ("current_time", {"timezone": "UTC"})
    assert any(
        isinstance(event, PartStartEvent) and isinstance(event.part, ToolCallPart) for event in seen
    )
    assert script.vendors() == ["openai", "openai"]


async def test_no_first_event_in_time_is_retried(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, waits: Waits
) -> None:
    # The hang outlasts the test: only the first-token timeout can end the first attempt.
    script.plan("gemini", Hang(seconds=600), Reply("Here now.", chunks=2))
    policy = replace(POLICY, first_token_seconds=FIRST_TOKEN_SECONDS)
    model = resilient(
        vendor_models[GEMINI], provider=GEMINI, policy=policy, breakers=Breakers(), sleep=waits
    )

    seen, response = await stream(model)

    assert answer_of(response) == text_of(seen) == "Here now."
    assert script.vendors() == ["gemini", "gemini"]
    [retrying] = events(logs, "llm.retrying")
    assert retrying["error"] == "ModelRequestTimeout"


async def test_a_stream_cut_after_it_began_is_neither_retried_nor_forgotten_by_the_breaker(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, clock: Clock
) -> None:
    cut = CutStream(after_chunks=2, text="This answer breaks off in the middle of", chunks=4)
    script.plan("openai", cut)
    breakers = Breakers(clock=clock)
    policy = replace(POLICY, breaker_failures=1)
    model = resilient(
        vendor_models[OPENAI], provider=OPENAI, policy=policy, breakers=breakers, sleep=Waits()
    )
    seen: list[ModelResponseStreamEvent] = []

    async def read_all() -> None:
        async with model_request_stream(model, HI) as response:
            async for event in response:
                seen.append(event)

    with pytest.raises(ModelConnectionError):
        await read_all()

    assert text_of(seen) and cut.text.startswith(text_of(seen))  # the start, once
    assert script.vendors() == ["openai"]
    assert events(logs, "llm.retrying") == []
    assert breakers.state(OPENAI) == "opened"  # the outage mid-stream counted


async def test_a_request_that_is_not_streamed_waits_out_retry_after(
    vendor_models: dict[str, Model], script: Script, waits: Waits
) -> None:
    script.plan("gemini", Fail(429, retry_after=2), Reply("Not streamed."))
    model = resilient(
        vendor_models[GEMINI], provider=GEMINI, policy=POLICY, breakers=Breakers(), sleep=waits
    )

    response = await model_request(model, HI)

    assert answer_of(response) == "Not streamed."
    assert script.vendors() == ["gemini", "gemini"]
    [wait] = waits.requested
    assert 2.0 <= wait <= 2.2


async def test_the_fallback_streams_its_answer_and_the_switch_is_logged(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, waits: Waits
) -> None:
    script.plan("openai", Fail(500), Fail(500), Fail(500))
    script.plan("anthropic", Reply("Claude answers.", chunks=3))
    shared = Breakers()
    openai, anthropic = (
        resilient(vendor_models[label], provider=label, policy=POLICY, breakers=shared, sleep=waits)
        for label in (OPENAI, ANTHROPIC)
    )
    model = with_fallbacks((OPENAI, openai), [(ANTHROPIC, anthropic)])

    seen, response = await stream(model)

    assert answer_of(response) == text_of(seen) == "Claude answers."
    assert script.vendors() == ["openai"] * 3 + ["anthropic"]
    [fallback] = events(logs, "llm.fallback")
    assert (fallback["from"], fallback["to"]) == (OPENAI, ANTHROPIC)
    assert fallback["reason"] == "the model service failed"


async def test_a_plain_model_in_a_chain_falls_back_on_an_error_before_its_first_event(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture
) -> None:
    script.plan("anthropic", Fail(529, in_stream=True))
    model = with_fallbacks((ANTHROPIC, vendor_models[ANTHROPIC]), [(GEMINI, vendor_models[GEMINI])])

    seen, response = await stream(model)

    assert answer_of(response) == text_of(seen) == "echo: hi"
    assert script.vendors() == ["anthropic", "gemini"]
    [fallback] = events(logs, "llm.fallback")
    assert (fallback["from"], fallback["to"]) == (ANTHROPIC, GEMINI)
    assert fallback["reason"] == "the model service is overloaded"


async def test_an_open_breaker_says_when_to_try_again_and_then_lets_one_probe_through(
    vendor_models: dict[str, Model], script: Script, clock: Clock
) -> None:
    script.plan("gemini", Fail(503), Fail(503), Reply("Back."))
    breakers = Breakers(clock=clock)
    policy = replace(POLICY, retries=0, breaker_failures=2, breaker_reset_seconds=60.0)
    model = resilient(
        vendor_models[GEMINI], provider=GEMINI, policy=policy, breakers=breakers, sleep=Waits()
    )
    for _ in range(2):
        with pytest.raises(Exception, match="503"):
            await stream(model)

    clock.advance(20)
    with pytest.raises(CircuitOpenError) as paused:
        await stream(model)
    assert paused.value.retry_in == 40
    assert script.vendors() == ["gemini", "gemini"]  # the paused call sent nothing

    clock.advance(40)
    _, response = await stream(model)
    assert answer_of(response) == "Back."
    assert breakers.state(GEMINI) == "closed"


async def test_a_chain_called_bare_through_request_stream_falls_back_and_retries(
    vendor_models: dict[str, Model], script: Script, logs: LogCapture, waits: Waits
) -> None:
    script.plan("gemini", Fail(429, retry_after=300))
    script.plan("openai", Fail(502), Reply("OpenAI, second try.", chunks=2))
    shared = Breakers()
    gemini, openai = (
        resilient(vendor_models[label], provider=label, policy=POLICY, breakers=shared, sleep=waits)
        for label in (GEMINI, OPENAI)
    )
    model = with_fallbacks((GEMINI, gemini), [(OPENAI, openai)])

    async with model.request_stream(HI, None, ModelRequestParameters()) as response:
        seen = [event async for event in response]

    assert answer_of(response.get()) == text_of(seen) == "OpenAI, second try."
    assert script.vendors() == ["gemini", "openai", "openai"]
    assert len(waits.requested) == 1  # OpenAI's backoff; nobody waited five minutes for Gemini
    [fallback] = events(logs, "llm.fallback")
    assert fallback["reason"] == "the model is rate-limited right now"
