"""The bare aiogram bots Magpie is measured against: echo, naive OpenAI SDK bots, a bare Agent.

Each answerer is an async context manager that yields `answer(chat_id, text) -> reply`; the
vendor SDKs are imported inside, so a process running the echo bot holds aiogram and nothing
more (the memory comparison depends on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bench.instant_llm import MODEL
from bench.turn_load import TOKEN, Outcome, drive

Answer = Callable[[int, str], Awaitable[str]]
HISTORY = 40  # messages a naive bot sends back to the model, as Magpie's history can
SYSTEM = "You are a helpful assistant in a Telegram chat. Answer briefly."


@contextlib.asynccontextmanager
async def echo() -> AsyncIterator[Answer]:
    """The issue's floor: the text back, no model."""

    async def answer(chat_id: int, text: str) -> str:
        return text

    yield answer


@contextlib.asynccontextmanager
async def naive(llm_url: str, *, stream: bool) -> AsyncIterator[Answer]:
    """`openai.AsyncOpenAI` with the last HISTORY messages per chat in RAM; streamed or not."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=llm_url, api_key="bench", max_retries=0)
    from openai.types.chat import ChatCompletionMessageParam

    histories: defaultdict[int, deque[ChatCompletionMessageParam]] = defaultdict(
        lambda: deque(maxlen=HISTORY)
    )

    async def answer(chat_id: int, text: str) -> str:
        history = histories[chat_id]
        history.append({"role": "user", "content": text})
        messages: list[ChatCompletionMessageParam] = [{"role": "system", "content": SYSTEM}]
        messages += history
        if stream:
            parts: list[str] = []
            chunks = await client.chat.completions.create(
                model=MODEL, messages=messages, stream=True
            )
            async for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
            reply = "".join(parts)
        else:
            completion = await client.chat.completions.create(model=MODEL, messages=messages)
            reply = completion.choices[0].message.content or ""
        history.append({"role": "assistant", "content": reply})
        return reply

    try:
        yield answer
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def agent_wire(llm_url: str) -> AsyncIterator[Answer]:
    """A bare pydantic-ai Agent (no history, no tools) on OpenAIChatModel over HTTP."""
    from openai import AsyncOpenAI
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    client = AsyncOpenAI(base_url=llm_url, api_key="bench", max_retries=0)
    model = OpenAIChatModel(MODEL, provider=OpenAIProvider(openai_client=client))
    agent: Agent[None, str] = Agent(model, instructions=SYSTEM)

    async def answer(chat_id: int, text: str) -> str:
        async with agent.run_stream(text) as run:
            async for _ in run.stream_text(debounce_by=None):
                pass
            return await run.get_output()

    try:
        yield answer
    finally:
        await client.close()


def answerer(name: str, llm_url: str) -> contextlib.AbstractAsyncContextManager[Answer]:
    """The answerer a contender's name stands for."""
    if name == "echo":
        return echo()
    if name in ("naive", "naive-stream"):
        return naive(llm_url, stream=name == "naive-stream")
    if name == "agent-wire":
        return agent_wire(llm_url)
    raise ValueError(f"no bare bot is called {name!r}")


async def bare_bot(
    base: str, answer: Answer, *, messages: int, users: int, started: Callable[[], None]
) -> tuple[Outcome, list[float]]:
    """A Dispatcher with one handler that replies `answer(chat, text)`; the load, turn times.

    `started` is called once the dispatcher has started up, just before the load is queued.
    """
    durations: list[float] = []
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def reply(message: Message) -> None:
        begun = time.perf_counter()
        await message.answer(await answer(message.chat.id, message.text or ""))
        durations.append(time.perf_counter() - begun)

    ready = asyncio.Event()

    @dispatcher.startup()
    async def up() -> None:
        ready.set()

    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=5)
    )
    try:
        await ready.wait()
        started()
        outcome = await drive(base, messages=messages, users=users)
    finally:
        await dispatcher.stop_polling()
        await polling
        await bot.session.close()
    return outcome, durations
