"""CPU per model call, layer by layer, against the instant OpenAI-compatible server (issue 8).

From the bare OpenAI SDK up to a pydantic-ai `Agent.run_stream` with six tools offered and
40 messages of history: each layer makes N calls one after another, in passes that take the
layers in turn, and `time.process_time()` says what they cost this process (the server runs in
its own). The difference between two rows is what that layer adds to a turn.

`python -m bench.layer_costs [--calls 200]` (or `--llm URL` to use a running server).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from openai import AsyncOpenAI, Omit, omit
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageParam
from pydantic_ai import Agent, Tool
from pydantic_ai.direct import model_request_stream
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from bench._procs import free_port, process
from bench.instant_llm import MODEL

SYSTEM = "You are a helpful assistant in a Telegram chat. Answer briefly."
QUESTION = "hello, how are you today?"
WARM_UP = 10
PASSES = 5


async def current_time(timezone: str = "UTC") -> str:
    """Current date and time in an IANA timezone, e.g. Europe/Kyiv."""
    return timezone


async def calculate(expression: str) -> str:
    """Evaluate an arithmetic expression, e.g. (2**10) / 7 + sqrt(2)."""
    return expression


async def save_note(text: str) -> str:
    """Save a note for this chat, to be found later with find_notes."""
    return text


async def find_notes(query: str = "") -> str:
    """Notes saved in this chat that contain the query (all of them when it is empty)."""
    return query


async def read_page(url: str) -> str:
    """The readable text of a web page."""
    return url


async def weather(place: str) -> str:
    """Current weather and today's forecast for a place, e.g. Kyiv or Paris, France."""
    return place


TOOLS = [Tool(f) for f in (current_time, calculate, save_note, find_notes, read_page, weather)]


def history_messages(count: int = 40) -> list[ModelMessage]:
    """`count` messages of earlier conversation, alternating the user and the assistant."""
    history: list[ModelMessage] = []
    for i in range(count // 2):
        history.append(ModelRequest.user_text_prompt(f"Question number {i} about the weather?"))
        history.append(ModelResponse(parts=[TextPart(f"Answer number {i}: sunny and mild.")]))
    return history


def history_dicts(count: int = 40) -> list[ChatCompletionMessageParam]:
    """The same history as Chat Completions messages."""
    history: list[ChatCompletionMessageParam] = []
    for i in range(count // 2):
        history.append({"role": "user", "content": f"Question number {i} about the weather?"})
        history.append({"role": "assistant", "content": f"Answer number {i}: sunny and mild."})
    return history


def sdk_tools() -> list[ChatCompletionFunctionToolParam]:
    """The six tools as Chat Completions `tools`."""
    return [
        {
            "type": "function",
            "function": {
                "name": t.tool_def.name,
                "description": t.tool_def.description or "",
                "parameters": t.tool_def.parameters_json_schema,
            },
        }
        for t in TOOLS
    ]


Call = Callable[[], Awaitable[object]]


def layers(client: AsyncOpenAI) -> list[tuple[str, Call]]:
    """Each layer's one call, named for the table."""
    model = OpenAIChatModel(MODEL, provider=OpenAIProvider(openai_client=client))
    bare: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": QUESTION},
    ]
    loaded = [bare[0], *history_dicts(), bare[1]]
    prompt: list[ModelMessage] = [ModelRequest.user_text_prompt(QUESTION, instructions=SYSTEM)]
    long_prompt = [*history_messages(), *prompt]
    tools_offered = ModelRequestParameters(function_tools=[t.tool_def for t in TOOLS])
    agent: Agent[None, str] = Agent(model, instructions=SYSTEM)
    tooled: Agent[None, str] = Agent(model, instructions=SYSTEM, tools=TOOLS)
    history = history_messages()

    async def sdk_whole() -> object:
        answer = await client.chat.completions.create(model=MODEL, messages=bare)
        return answer.choices[0].message.content

    async def sdk_streamed(
        messages: list[ChatCompletionMessageParam],
        tools: list[ChatCompletionFunctionToolParam] | Omit = omit,
    ) -> object:
        chunks = await client.chat.completions.create(
            model=MODEL,
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
            tools=tools,
        )
        return "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])

    async def direct(messages: list[ModelMessage], parameters: ModelRequestParameters) -> object:
        async with model_request_stream(
            model, messages, model_request_parameters=parameters
        ) as stream:
            async for _ in stream:
                pass
        return stream.get()

    async def run_stream(runner: Agent[None, str], past: list[ModelMessage]) -> object:
        async with runner.run_stream(QUESTION, message_history=past) as run:
            async for _ in run.stream_text(debounce_by=None):
                pass
            return await run.get_output()

    return [
        ("openai SDK, whole (`chat.completions.create`)", sdk_whole),
        ("openai SDK, streamed (`stream=True`)", lambda: sdk_streamed(bare)),
        ("openai SDK, streamed, 40 history", lambda: sdk_streamed(loaded)),
        (
            "openai SDK, streamed, 6 tools + 40 history",
            lambda: sdk_streamed(loaded, tools=sdk_tools()),
        ),
        (
            "`pydantic_ai.direct.model_request_stream`",
            lambda: direct(prompt, ModelRequestParameters()),
        ),
        (
            "`model_request_stream`, 6 tools + 40 history",
            lambda: direct(long_prompt, tools_offered),
        ),
        ("`Agent.run_stream`", lambda: run_stream(agent, [])),
        ("`Agent.run_stream`, 6 tools + 40 history", lambda: run_stream(tooled, history)),
    ]


async def cost(call: Call, calls: int) -> tuple[float, float]:
    """CPU and wall milliseconds per call over `calls` calls."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await call()
    return (
        (time.process_time() - cpu) * 1000 / calls,
        (time.perf_counter() - wall) * 1000 / calls,
    )


async def measure(llm_url: str, calls: int) -> None:
    """Every layer in turn, PASSES times over (a busy machine slows one pass, not one layer)."""
    client = AsyncOpenAI(base_url=llm_url, api_key="bench", max_retries=0)
    try:
        named = layers(client)
        for _, call in named:
            await cost(call, WARM_UP)
        per_pass = max(1, calls // PASSES)
        passes: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in named}
        for _ in range(PASSES):
            for name, call in named:
                passes[name].append(await cost(call, per_pass))
        print(
            f"CPU per call: {per_pass * PASSES} calls per layer one after another, in "
            f"{PASSES} interleaved passes (median); the instant server runs in its own process"
        )
        print("| layer | CPU ms/call | wall ms/call |")
        print("|---|---|---|")
        for name, figures in passes.items():
            cpu = statistics.median(c for c, _ in figures)
            wall = statistics.median(w for _, w in figures)
            print(f"| {name} | {cpu:.1f} | {wall:.1f} |", flush=True)
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--llm", help="a running instant server's /v1 URL")
    args = parser.parse_args()
    if args.llm:
        asyncio.run(measure(args.llm, args.calls))
        return
    port = free_port()
    with process(["-m", "bench.instant_llm", str(port)], port=port):
        asyncio.run(measure(f"http://127.0.0.1:{port}/v1", args.calls))


if __name__ == "__main__":
    main()
