"""Magpie's overhead per turn against a bare aiogram echo bot, on the same sandbox (core issue).

N private messages from M simulated users go through sandbox → bot → an instant model. The
baseline is a bare aiogram echo bot (Dispatcher + one handler) polling the same sandbox in the
same run. Printed: updates/s and per-turn time (p50/p95) for both, and the ratio. Target:
Magpie ≥ 0.5× the echo bot's throughput, on SQLite and on PostgreSQL. Also: resident memory
after 10,000 turns across 1,000 chats.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import asyncpg  # type: ignore[import-untyped]
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from dishka import Provider, Scope, provide
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo, FunctionModel
from sqlalchemy import select

from bench._procs import free_port, percentile, process
from magpie.app import running, serve
from magpie.config import load_settings
from magpie.conversation.ports import Model
from magpie.llm.catalog import ModelCatalog
from magpie.llm.runner import ModelRunner
from magpie.observability.logging import configure_logging
from magpie.storage.database import Database
from magpie.storage.tables import TurnRow

TOKEN = "7000000001:SANDBOX-bench"
POSTGRES = os.environ.get(
    "MAGPIE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1/test"
)


async def _instant(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
    yield "Noted."


class InstantModel(Provider):
    """A model that answers at once, so what is measured is Magpie itself."""

    scope = Scope.APP

    @provide(override=True)
    def model(self) -> Model:
        instant = FunctionModel(stream_function=_instant, model_name="instant")
        return ModelRunner(ModelCatalog.of({"instant": instant}))


async def control(
    http: aiohttp.ClientSession, base: str, verb: str, path: str, body: object = None
) -> object:
    async with http.request(verb, f"{base}/sandbox/api{path}", json=body) as response:
        data = await response.json()
        assert data["ok"], data
        return data["result"]


async def drive(base: str, *, messages: int, users: int) -> float:
    """Queue the load (each user sends its share at once), return seconds until all answered."""
    async with aiohttp.ClientSession() as http:
        before = int((await control(http, base, "GET", "/stats")).get("sendMessage", 0))  # type: ignore[union-attr]
        ids = [
            (await control(http, base, "POST", "/users", {"first_name": f"U{i}"}))["id"]  # type: ignore[index]
            for i in range(users)
        ]
        started = time.perf_counter()
        per_user = messages // users
        for user_id in ids:
            body = {"user_id": user_id, "bot": "magpie_bot", "text": "hello", "repeat": per_user}
            await control(http, base, "POST", "/send", body)
        while True:  # a light check every 20 ms, so the driver does not load the sandbox
            counts = await control(http, base, "GET", "/stats")
            if int(counts.get("sendMessage", 0)) - before >= per_user * users:  # type: ignore[union-attr]
                return time.perf_counter() - started
            await asyncio.sleep(0.02)


async def bare_bot(
    base: str, answer: Callable[[str], Awaitable[str]], *, messages: int, users: int
) -> tuple[float, list[float]]:
    """A Dispatcher with one handler that answers every message with `answer(text)`."""
    durations: list[float] = []
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def reply(message: Message) -> None:
        started = time.perf_counter()
        await message.answer(await answer(message.text or ""))
        durations.append(time.perf_counter() - started)

    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=5)
    )
    try:
        seconds = await drive(base, messages=messages, users=users)
    finally:
        await dispatcher.stop_polling()
        await polling
        await bot.session.close()
    return seconds, durations


async def echo(text: str) -> str:
    return text


def agent_answer() -> Callable[[str], Awaitable[str]]:
    """The instant model through a bare pydantic-ai Agent: the floor for any pydantic-ai bot."""
    agent: Agent[None, str] = Agent(output_type=str)
    instant = FunctionModel(stream_function=_instant, model_name="instant")

    async def answer(text: str) -> str:
        async with agent.run_stream(text, model=instant) as run:
            async for _ in run.stream_text(debounce_by=None):
                pass
            return await run.get_output()

    return answer


async def magpie(
    base: str, database_url: str, *, messages: int, users: int
) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            env_file=None,
            telegram_bot_token=TOKEN,
            telegram_api_url=base,
            data_dir=Path(data_dir),
            database_url=database_url.replace("DATA", data_dir),
            log_level="ERROR",
        )
        stop = asyncio.Event()
        async with running(settings, extra=[InstantModel()]) as runtime:
            serving = asyncio.create_task(serve(runtime, stop=stop))
            seconds = await drive(base, messages=messages, users=users)
            await runtime.pipeline.queues.join()
            db = await runtime.container.get(Database)
            async with db.read() as connection:
                latencies = [
                    ms / 1000 for ms in await connection.scalars(select(TurnRow.latency_ms))
                ]
            stop.set()
            await serving
    return seconds, latencies


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    name = f"magpie_bench_{uuid.uuid4().hex[:8]}"
    admin = (
        POSTGRES.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    )
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def report(name: str, messages: int, seconds: float, durations: list[float]) -> float:
    rate = messages / seconds
    p50, p95 = percentile(durations, 0.5) * 1000, percentile(durations, 0.95) * 1000
    print(f"  {name:<14} {rate:8.0f} updates/s   per turn p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    return rate


async def measure(args: argparse.Namespace) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sandbox = [
        "-m",
        "magpie.cli",
        "sandbox",
        "--port",
        str(port),
        "--token",
        TOKEN,
        "--flood",
        "off",
    ]
    with process(sandbox, port=port):
        async with aiohttp.ClientSession() as http:
            for backend in args.db:
                print(f"{args.messages} private messages from {args.users} users — {backend}")
                await control(http, base, "POST", "/reset")
                seconds, durations = await bare_bot(
                    base, echo, messages=args.messages, users=args.users
                )
                echo_rate = report("aiogram echo", args.messages, seconds, durations)
                await control(http, base, "POST", "/reset")
                seconds, durations = await bare_bot(
                    base, agent_answer(), messages=args.messages, users=args.users
                )
                agent_rate = report("echo + agent", args.messages, seconds, durations)
                await control(http, base, "POST", "/reset")
                async with contextlib.AsyncExitStack() as stack:
                    url = (
                        "sqlite+aiosqlite:///DATA/magpie.db"
                        if backend == "sqlite"
                        else await stack.enter_async_context(postgres_database())
                    )
                    seconds, durations = await magpie(
                        base, url, messages=args.messages, users=args.users
                    )
                magpie_rate = report("Magpie", args.messages, seconds, durations)
                print(
                    f"  ratio          {magpie_rate / agent_rate:8.2f} × echo + agent "
                    "(target >= 0.5)\n"
                    f"                 {magpie_rate / echo_rate:8.2f} × aiogram echo "
                    f"(a pydantic-ai bot's ceiling here: {agent_rate / echo_rate:.2f})\n"
                )
            if args.memory_turns:
                await control(http, base, "POST", "/reset")
                before = rss_mb()
                await magpie(
                    base,
                    "sqlite+aiosqlite:///DATA/magpie.db",
                    messages=args.memory_turns,
                    users=args.memory_chats,
                )
                print(
                    f"Resident memory after {args.memory_turns} turns across {args.memory_chats} "
                    f"chats: {rss_mb():.0f} MB (process was {before:.0f} MB before Magpie started)"
                )


def main() -> None:
    configure_logging("ERROR", "console")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument(
        "--db", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--memory-turns", type=int, default=10_000)
    parser.add_argument("--memory-chats", type=int, default=1000)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
