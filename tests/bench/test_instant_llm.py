"""The benchmarks' instant LLM server speaks the wire the real OpenAI SDK and pydantic-ai read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from bench.instant_llm import instant_app
from openai import AsyncOpenAI
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

SENTENCE = "Noted, thanks — I will keep that in mind."


@pytest.fixture
async def client() -> AsyncIterator[AsyncOpenAI]:
    runner = web.AppRunner(instant_app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    openai = AsyncOpenAI(base_url=f"http://{host}:{port}/v1", api_key="bench", max_retries=0)
    yield openai
    await openai.close()
    await runner.cleanup()


async def test_a_whole_answer_reads_back_with_its_usage(client: AsyncOpenAI) -> None:
    answer = await client.chat.completions.create(
        model="bench-instant", messages=[{"role": "user", "content": "hello"}]
    )
    assert answer.choices[0].message.content == SENTENCE
    assert answer.choices[0].finish_reason == "stop"
    assert answer.model == "bench-instant"
    assert answer.usage is not None
    assert answer.usage.prompt_tokens > 0
    assert answer.usage.completion_tokens == 9
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + 9


async def test_a_streamed_answer_arrives_in_deltas_then_usage(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="bench-instant",
        messages=[{"role": "user", "content": "hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    deltas, reasons, usages = [], [], []
    async for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                deltas.append(choice.delta.content)
            if choice.finish_reason:
                reasons.append(choice.finish_reason)
        if chunk.usage is not None:
            usages.append(chunk.usage)
    assert "".join(deltas) == SENTENCE
    assert len(deltas) == 5
    assert reasons == ["stop"]
    assert len(usages) == 1
    assert usages[0].completion_tokens == 9


async def test_a_stream_carries_no_usage_unless_asked(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="bench-instant", messages=[{"role": "user", "content": "hello"}], stream=True
    )
    chunks = [chunk async for chunk in stream]
    assert all(chunk.usage is None for chunk in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == SENTENCE


async def test_pydantic_ai_streams_text_when_offered_tools_and_history(
    client: AsyncOpenAI,
) -> None:
    model = OpenAIChatModel("bench-instant", provider=OpenAIProvider(openai_client=client))
    agent: Agent[None, str] = Agent(model, instructions="Be brief.")

    @agent.tool_plain
    async def current_time(timezone: str = "UTC") -> str:
        """Current date and time in an IANA timezone."""
        raise AssertionError("the instant server answers with text, never a tool call")

    history: list[ModelMessage] = [
        ModelRequest.user_text_prompt("hi"),
        ModelResponse(parts=[TextPart("Hello!")]),
    ]
    async with agent.run_stream("what time is it?", message_history=history) as run:
        texts = [text async for text in run.stream_text(debounce_by=None)]
        output = await run.get_output()
    assert output == SENTENCE
    assert texts[-1] == SENTENCE
    assert run.usage.output_tokens == 9
