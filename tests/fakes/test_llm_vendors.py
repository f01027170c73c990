"""The fake LLM vendors, checked through each vendor's real SDK and through pydantic-ai."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import anthropic
import httpx2
import openai
import pytest
from anthropic.lib.streaming import AsyncMessageStreamManager
from anthropic.types import MessageParam
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from openai import AsyncStream
from openai.types.chat import (
    ChatCompletionChunk,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
)
from pydantic_ai import Agent
from pydantic_ai.exceptions import (
    ModelConnectionError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.google import GoogleModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.google import GoogleProvider
from pydantic_ai.providers.openai import OpenAIProvider

from tests.fakes.llm_vendors import (
    CutStream,
    Fail,
    FakeLLMVendors,
    Hang,
    MalformedToolCall,
    Reply,
    ToolCall,
    Vendor,
    VendorRequest,
)

VENDORS: list[Vendor] = ["openai", "anthropic", "gemini"]
HELLO = Reply("Hello **world**", chunks=3)
OPENAI_HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
ANTHROPIC_HI: list[MessageParam] = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeLLMVendors]:
    async with FakeLLMVendors() as server:
        yield server


@pytest.fixture
async def openai_client(fake: FakeLLMVendors) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(
        base_url=fake.openai_base_url, api_key=fake.api_key, max_retries=0, timeout=5
    )
    yield client
    await client.close()


@pytest.fixture
async def anthropic_client(fake: FakeLLMVendors) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(
        base_url=fake.anthropic_base_url, api_key=fake.api_key, max_retries=0, timeout=5
    )
    yield client
    await client.close()


@pytest.fixture
async def gemini_client(fake: FakeLLMVendors) -> AsyncIterator[genai.client.AsyncClient]:
    options = genai_types.HttpOptions(base_url=fake.gemini_base_url, timeout=5000)
    client = genai.Client(api_key=fake.api_key, http_options=options).aio
    yield client
    await client.aclose()


def build_model(vendor: Vendor, fake: FakeLLMVendors) -> Model:
    """A pydantic-ai model pointed at the fake, the way production code builds one."""
    if vendor == "openai":
        provider = OpenAIProvider(base_url=fake.openai_base_url, api_key=fake.api_key)
        return OpenAIChatModel("gpt-4o-mini", provider=provider)
    if vendor == "anthropic":
        anthropic_provider = AnthropicProvider(
            base_url=fake.anthropic_base_url, api_key=fake.api_key
        )
        return AnthropicModel("claude-haiku-4-5", provider=anthropic_provider)
    google_provider = GoogleProvider(base_url=fake.gemini_base_url, api_key=fake.api_key)
    return GoogleModel("gemini-2.5-flash", provider=google_provider)


@pytest.fixture(params=VENDORS)
async def model(request: pytest.FixtureRequest, fake: FakeLLMVendors) -> AsyncIterator[Model]:
    async with build_model(request.param, fake) as built:
        yield built


def clock_agent(model: Model, calls: list[str]) -> Agent[None, str]:
    """An agent with one tool that records its calls."""
    agent = Agent(model, instructions="Answer briefly.", model_settings={"max_retries": 0})

    @agent.tool_plain
    def current_time(timezone: str) -> str:
        """Current time in an IANA timezone."""
        calls.append(timezone)
        return f"12:00 in {timezone}"

    return agent


async def read_openai_text(stream: AsyncStream[ChatCompletionChunk], into: list[str]) -> None:
    """Collect streamed text until the stream ends or fails."""
    async for chunk in stream:
        into.append(chunk.choices[0].delta.content or "")


async def read_anthropic_text(stream: AsyncMessageStreamManager, into: list[str]) -> None:
    """Collect streamed text until the stream ends or fails."""
    async with stream as events:
        async for text in events.text_stream:
            into.append(text)


async def read_gemini_text(
    stream: AsyncIterator[genai_types.GenerateContentResponse], into: list[str]
) -> None:
    """Collect streamed text until the stream ends or fails."""
    async for chunk in stream:
        into.append(chunk.text or "")


async def stream_deltas(agent: Agent[None, str], prompt: str) -> list[str]:
    """Run `agent` streamed and return its text deltas."""
    async with agent.run_stream(prompt) as result:
        return [d async for d in result.stream_text(delta=True, debounce_by=None)]


# --- OpenAI SDK ---------------------------------------------------------------------------------


async def test_openai_streams_text_in_chunks_with_usage(
    fake: FakeLLMVendors, openai_client: openai.AsyncOpenAI
) -> None:
    fake.enqueue(HELLO)
    stream = await openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "Be kind."}, *OPENAI_HI],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]

    deltas = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert deltas == ["Hello", " **wo", "rld**"]
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens > 0
    assert chunks[-1].usage.completion_tokens > 0
    assert fake.requests[0].messages == [("system", "Be kind."), ("user", "hi")]
    assert fake.requests[0].stream


async def test_openai_tool_calls_parse_with_text(
    fake: FakeLLMVendors, openai_client: openai.AsyncOpenAI
) -> None:
    calls = (ToolCall("current_time", {"timezone": "UTC"}), ToolCall("weather", {"city": "Kyiv"}))
    fake.enqueue(Reply("Checking.", tool_calls=calls))
    completion = await openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=OPENAI_HI
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Checking."
    calls_made = choice.message.tool_calls or []
    parsed = [
        (c.function.name, json.loads(c.function.arguments))
        for c in calls_made
        if isinstance(c, ChatCompletionMessageFunctionToolCall)
    ]
    assert parsed == [("current_time", {"timezone": "UTC"}), ("weather", {"city": "Kyiv"})]
    assert completion.usage is not None
    assert completion.usage.total_tokens > 0


async def test_openai_streamed_tool_call_arguments_reassemble(
    fake: FakeLLMVendors, openai_client: openai.AsyncOpenAI
) -> None:
    fake.enqueue(ToolCall("current_time", {"timezone": "Europe/Kyiv"}))
    stream = await openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=OPENAI_HI,
        stream=True,
    )
    name, arguments = "", ""
    async for chunk in stream:
        for call in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            name += call.function.name or "" if call.function else ""
            arguments += call.function.arguments or "" if call.function else ""

    assert name == "current_time"
    assert json.loads(arguments) == {"timezone": "Europe/Kyiv"}


async def test_openai_rate_limit_carries_retry_after(
    fake: FakeLLMVendors, openai_client: openai.AsyncOpenAI
) -> None:
    fake.enqueue(Fail(status=429, retry_after=2))
    with pytest.raises(openai.RateLimitError) as caught:
        await openai_client.chat.completions.create(model="gpt-4o-mini", messages=OPENAI_HI)

    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.code == "rate_limit_exceeded"


async def test_openai_cut_stream_raises_connection_error(
    fake: FakeLLMVendors, openai_client: openai.AsyncOpenAI
) -> None:
    fake.enqueue(CutStream(after_chunks=2))
    stream = await openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=OPENAI_HI,
        stream=True,
    )
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        await read_openai_text(stream, received)

    assert "".join(received) == "This answer breaks "


async def test_openai_hang_times_out_and_release_ends_it(
    fake: FakeLLMVendors, openai_client: openai.AsyncOpenAI
) -> None:
    fake.enqueue(Hang(seconds=30))
    with pytest.raises(openai.APITimeoutError):
        await openai_client.chat.completions.create(
            model="gpt-4o-mini",
            messages=OPENAI_HI,
            timeout=0.2,
        )
    fake.release()


async def test_openai_wrong_key_and_model_list(
    fake: FakeLLMVendors, openai_client: openai.AsyncOpenAI
) -> None:
    models = await openai_client.models.list()
    assert "gpt-4o-mini" in [m.id for m in models.data]

    stranger = openai.AsyncOpenAI(base_url=fake.openai_base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        await stranger.chat.completions.create(model="gpt-4o-mini", messages=OPENAI_HI)
    await stranger.close()
    assert fake.requests == []


# --- Anthropic SDK ------------------------------------------------------------------------------


async def test_anthropic_streams_text_events_with_usage(
    fake: FakeLLMVendors, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(HELLO)
    async with anthropic_client.messages.stream(
        model="claude-haiku-4-5", max_tokens=100, system="Be kind.", messages=ANTHROPIC_HI
    ) as stream:
        deltas = [text async for text in stream.text_stream]
        message = await stream.get_final_message()

    assert deltas == ["Hello", " **wo", "rld**"]
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0
    assert fake.requests[0].messages == [("system", "Be kind."), ("user", "hi")]


async def test_anthropic_raw_event_sequence(
    fake: FakeLLMVendors, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(Reply("Hi", tool_calls=(ToolCall("current_time", {"timezone": "UTC"}),)))
    stream = await anthropic_client.messages.create(
        model="claude-haiku-4-5", max_tokens=100, messages=ANTHROPIC_HI, stream=True
    )
    kinds = [event.type async for event in stream]

    assert kinds == [
        "message_start",
        *["content_block_start", "content_block_delta", "content_block_stop"],
        *["content_block_start", "content_block_delta", "content_block_delta"],
        *["content_block_stop", "message_delta", "message_stop"],
    ]


async def test_anthropic_streamed_tool_use_input(
    fake: FakeLLMVendors, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(ToolCall("current_time", {"timezone": "UTC"}))
    async with anthropic_client.messages.stream(
        model="claude-haiku-4-5", max_tokens=100, messages=ANTHROPIC_HI
    ) as stream:
        message = await stream.get_final_message()

    (block,) = message.content
    assert block.type == "tool_use"
    assert (block.name, block.input) == ("current_time", {"timezone": "UTC"})
    assert message.stop_reason == "tool_use"


async def test_anthropic_rate_limit_and_overload(
    fake: FakeLLMVendors, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(Fail(status=429, retry_after=2), Fail(status=529))
    with pytest.raises(anthropic.RateLimitError) as limited:
        await anthropic_client.messages.create(
            model="claude-haiku-4-5", max_tokens=100, messages=ANTHROPIC_HI
        )
    with pytest.raises(anthropic.OverloadedError) as overloaded:
        await anthropic_client.messages.create(
            model="claude-haiku-4-5", max_tokens=100, messages=ANTHROPIC_HI
        )

    assert limited.value.response.headers["retry-after"] == "2"
    assert limited.value.type == "rate_limit_error"
    assert overloaded.value.status_code == 529
    assert overloaded.value.type == "overloaded_error"


async def test_anthropic_cut_stream_raises(
    fake: FakeLLMVendors, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(CutStream(after_chunks=2))
    received: list[str] = []
    stream = anthropic_client.messages.stream(
        model="claude-haiku-4-5", max_tokens=100, messages=ANTHROPIC_HI
    )
    with pytest.raises(httpx2.RemoteProtocolError):
        await read_anthropic_text(stream, received)

    assert "".join(received) == "This answer breaks "


# --- Gemini SDK ---------------------------------------------------------------------------------


async def test_gemini_streams_text_with_usage(
    fake: FakeLLMVendors, gemini_client: genai.client.AsyncClient
) -> None:
    fake.enqueue(HELLO)
    config = genai_types.GenerateContentConfig(system_instruction="Be kind.")
    stream = await gemini_client.models.generate_content_stream(
        model="gemini-2.5-flash", contents="hi", config=config
    )
    chunks = [chunk async for chunk in stream]

    assert [c.text for c in chunks if c.text] == ["Hello", " **wo", "rld**"]
    usage = chunks[-1].usage_metadata
    assert usage is not None
    assert usage.prompt_token_count
    assert usage.candidates_token_count
    assert fake.requests[0].messages == [("system", "Be kind."), ("user", "hi")]
    assert fake.requests[0].model == "gemini-2.5-flash"


async def test_gemini_function_call_parts(
    fake: FakeLLMVendors, gemini_client: genai.client.AsyncClient
) -> None:
    fake.enqueue(ToolCall("current_time", {"timezone": "UTC"}))
    declaration = genai_types.FunctionDeclaration(name="current_time", description="Time.")
    config = genai_types.GenerateContentConfig(
        tools=[genai_types.Tool(function_declarations=[declaration])]
    )
    response = await gemini_client.models.generate_content(
        model="gemini-2.5-flash", contents="time?", config=config
    )

    (call,) = response.function_calls or []
    assert (call.name, call.args) == ("current_time", {"timezone": "UTC"})
    assert fake.requests[0].tools == ["current_time"]


async def test_gemini_rate_limit_carries_retry_after(
    fake: FakeLLMVendors, gemini_client: genai.client.AsyncClient
) -> None:
    fake.enqueue(Fail(status=429, retry_after=2))
    with pytest.raises(genai_errors.ClientError) as caught:
        await gemini_client.models.generate_content(model="gemini-2.5-flash", contents="hi")

    assert caught.value.code == 429
    assert caught.value.status == "RESOURCE_EXHAUSTED"
    assert caught.value.response.headers["Retry-After"] == "2"


async def test_gemini_cut_stream_raises(
    fake: FakeLLMVendors, gemini_client: genai.client.AsyncClient
) -> None:
    fake.enqueue(CutStream(after_chunks=2))
    received: list[str] = []
    stream = await gemini_client.models.generate_content_stream(
        model="gemini-2.5-flash", contents="hi"
    )
    with pytest.raises(aiohttp.ClientPayloadError):
        await read_gemini_text(stream, received)

    assert "".join(received) == "This answer breaks "


# --- pydantic-ai, every vendor -------------------------------------------------------------------


async def test_agent_streams_text_in_chunks_with_usage(fake: FakeLLMVendors, model: Model) -> None:
    fake.enqueue(HELLO)
    agent = Agent(model, model_settings={"max_retries": 0})
    async with agent.run_stream("hi") as result:
        deltas = [d async for d in result.stream_text(delta=True, debounce_by=None)]

    assert deltas == ["Hello", " **wo", "rld**"]
    assert result.usage.input_tokens > 0
    assert result.usage.output_tokens > 0
    assert fake.requests[0].stream


async def test_agent_runs_a_tool_then_answers(fake: FakeLLMVendors, model: Model) -> None:
    calls: list[str] = []
    fake.enqueue(ToolCall("current_time", {"timezone": "UTC"}), Reply("It is noon."))
    result = await clock_agent(model, calls).run("What time is it?")

    assert result.output == "It is noon."
    assert calls == ["UTC"]
    assert result.usage.requests == 2
    first, second = fake.requests
    assert first.tools == ["current_time"]
    assert "Answer briefly." in first.system_text
    assert first.last_user_text == "What time is it?"
    assert ("tool_call", 'current_time({"timezone": "UTC"})') in second.messages
    assert ("tool", "12:00 in UTC") in second.messages


async def test_agent_rate_limit_surfaces_retry_after(fake: FakeLLMVendors, model: Model) -> None:
    fake.enqueue(Fail(status=429, retry_after=2))
    with pytest.raises(ModelRateLimitError) as caught:
        await Agent(model, model_settings={"max_retries": 0}).run("hi")

    assert caught.value.retry_after == 2


async def test_agent_cut_stream_raises_connection_error(fake: FakeLLMVendors, model: Model) -> None:
    fake.enqueue(CutStream(after_chunks=2))
    agent = Agent(model, model_settings={"max_retries": 0})
    with pytest.raises(ModelConnectionError):
        await stream_deltas(agent, "hi")


async def test_agent_recovers_from_malformed_tool_call(fake: FakeLLMVendors, model: Model) -> None:
    calls: list[str] = []
    fake.enqueue(MalformedToolCall("current_time", '{"timezone": '), Reply("Sorry, noon."))
    result = await clock_agent(model, calls).run("What time is it?")

    assert result.output == "Sorry, noon."
    assert calls == []
    assert len(fake.requests) == 2


async def test_agent_times_out_on_a_hang(fake: FakeLLMVendors, model: Model) -> None:
    fake.enqueue(Hang(seconds=30))
    agent = Agent(model, model_settings={"max_retries": 0, "timeout": 0.2})
    with pytest.raises(ModelTimeoutError):
        await agent.run("hi")


# --- scripting ----------------------------------------------------------------------------------


async def test_unscripted_call_echoes_last_user_text(
    fake: FakeLLMVendors, openai_client: openai.AsyncOpenAI
) -> None:
    completion = await openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "first"}, {"role": "user", "content": "ping"}],
    )

    assert completion.choices[0].message.content == "echo: ping"


async def test_responder_sees_the_neutral_request(
    fake: FakeLLMVendors, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    seen: list[VendorRequest] = []

    def responder(request: VendorRequest) -> Reply:
        seen.append(request)
        return Reply(f"{request.vendor}/{request.model}: {request.last_user_text}")

    fake.responder = responder
    message = await anthropic_client.messages.create(
        model="claude-haiku-4-5", max_tokens=100, messages=ANTHROPIC_HI
    )

    assert message.content[0].type == "text"
    assert message.content[0].text == "anthropic/claude-haiku-4-5: hi"
    assert seen == fake.requests


async def test_hang_answers_when_released(fake: FakeLLMVendors, model: Model) -> None:
    fake.enqueue(Hang(seconds=30, then=Reply("finally")))
    run = asyncio.create_task(Agent(model, model_settings={"max_retries": 0}).run("hi"))
    await fake.wait_for_requests(1)
    fake.release()

    assert (await run).output == "finally"


async def test_hang_released_before_it_starts_does_not_hang(
    fake: FakeLLMVendors, openai_client: openai.AsyncOpenAI
) -> None:
    hang = Hang(seconds=30)
    hang.release()
    fake.enqueue(hang)
    completion = await openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=OPENAI_HI
    )

    assert completion.choices[0].message.content == "echo: hi"


class Pauses:
    """A `sleep` for the fake that waits for nothing and remembers each pause it was asked for."""

    def __init__(self) -> None:
        self.requested: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.requested.append(seconds)


@pytest.mark.parametrize(
    ("reply", "pauses"),
    [
        (Reply("slow start", chunks=2, first_token_delay=0.3), [0.3]),
        (
            Reply("slow start, then steady", chunks=3, first_token_delay=2, chunk_delay=0.1),
            [2, 0.1, 0.1],
        ),
    ],
    ids=["first-only", "then-between-chunks"],
)
async def test_first_token_delay_pauses_only_before_the_first_chunk(
    reply: Reply, pauses: list[float]
) -> None:
    paused = Pauses()
    async with FakeLLMVendors(sleep=paused) as fake:
        fake.enqueue(reply)
        async with openai.AsyncOpenAI(
            base_url=fake.openai_base_url, api_key=fake.api_key, max_retries=0, timeout=5
        ) as client:
            stream = await client.chat.completions.create(
                model="gpt-4o-mini", messages=OPENAI_HI, stream=True
            )
            chunks = [
                c.choices[0].delta.content async for c in stream if c.choices[0].delta.content
            ]

    assert "".join(chunks) == reply.text
    assert len(chunks) == reply.chunks
    assert paused.requested == pauses


async def test_overload_inside_an_open_stream(fake: FakeLLMVendors) -> None:
    fake.enqueue(Fail(status=529, in_stream=True))
    async with build_model("anthropic", fake) as model:
        agent = Agent(model, model_settings={"max_retries": 0})
        with pytest.raises(ModelOverloadedError) as caught:
            await stream_deltas(agent, "hi")

    assert caught.value.in_stream
