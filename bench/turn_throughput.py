"""Magpie's overhead per turn against bare aiogram bots, on the same sandbox (core issue).

N private messages from M simulated users go through sandbox → bot → an instant model. Three
contenders answer the same load, each in a fresh process, in rounds (these machines are noisy:
each round's ratio compares runs minutes apart at most):

- `echo`: a bare aiogram echo bot (Dispatcher + one handler) — the issue's baseline;
- `agent`: the same bot, answering through the instant model in a bare pydantic-ai Agent — the
  floor for any bot built on pydantic-ai (its run costs several times the echo bot's update);
- `magpie`: Magpie as configured by default (durable inbox, history, tools offered to the
  model, streaming, storage), its model catalog holding the instant model.

Printed per database: updates/s and per-turn time (p50/p95) per contender and round, and the
median ratios. Target: Magpie ≥ 0.5× the agent bot's throughput on SQLite and on PostgreSQL.
Also: resident memory after 10,000 turns across 1,000 chats.

`python -m bench.turn_throughput [--rounds 3] [--messages 2000] [--users 100] [--db ...]`
(`--rounds 0` measures only memory, `--memory-turns 0` skips it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

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
from magpie.collector import tuned_for_serving
from magpie.config import load_settings
from magpie.llm.catalog import ModelCatalog
from magpie.observability.logging import configure_logging
from magpie.storage.database import Database
from magpie.storage.tables import TurnRow

TOKEN = "7000000001:SANDBOX-bench"
POSTGRES = os.environ.get(
    "MAGPIE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1/test"
)
CONTENDERS = ("echo", "agent", "magpie")


async def _instant(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
    yield "Noted."


def instant_model() -> FunctionModel:
    return FunctionModel(stream_function=_instant, model_name="instant")


class InstantModels(Provider):
    """Magpie's model catalog holds the instant model; everything else is as configured."""

    scope = Scope.APP

    @provide(override=True)
    def models(self) -> ModelCatalog:
        return ModelCatalog.of({"instant": instant_model()})


async def control(
    http: aiohttp.ClientSession, base: str, verb: str, path: str, body: object = None
) -> Any:
    async with http.request(verb, f"{base}/sandbox/api{path}", json=body) as response:
        data = await response.json()
        assert data["ok"], data
        return data["result"]


async def drive(base: str, *, messages: int, users: int) -> float:
    """Queue the load (each user sends its share at once), return seconds until all answered."""
    async with aiohttp.ClientSession() as http:
        before = int((await control(http, base, "GET", "/stats")).get("sendMessage", 0))
        ids = [
            (await control(http, base, "POST", "/users", {"first_name": f"U{i}"}))["id"]
            for i in range(users)
        ]
        started = time.perf_counter()
        per_user = messages // users
        for user_id in ids:
            body = {"user_id": user_id, "bot": "magpie_bot", "text": "hello", "repeat": per_user}
            await control(http, base, "POST", "/send", body)
        while True:  # a light check every 20 ms, so the driver does not load the sandbox
            counts = await control(http, base, "GET", "/stats")
            if int(counts.get("sendMessage", 0)) - before >= per_user * users:
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
    """The instant model through a bare pydantic-ai Agent."""
    agent: Agent[None, str] = Agent(output_type=str)
    model = instant_model()

    async def answer(text: str) -> str:
        async with agent.run_stream(text, model=model) as run:
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
        async with running(settings, extra=[InstantModels()]) as runtime:
            with tuned_for_serving():  # as `magpie run` does (GC_TUNING)
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


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def contender(args: argparse.Namespace) -> dict[str, float]:
    """One contender's run, in this (fresh) process."""
    before = rss_mb()
    if args.contender == "magpie":
        seconds, durations = await magpie(
            args.base, args.database, messages=args.messages, users=args.users
        )
    else:
        answer = echo if args.contender == "echo" else agent_answer()
        seconds, durations = await bare_bot(
            args.base, answer, messages=args.messages, users=args.users
        )
    return {
        "rate": args.messages / seconds,
        "p50": percentile(durations, 0.5) * 1000,
        "p95": percentile(durations, 0.95) * 1000,
        "rss_before": before,
        "rss_after": rss_mb(),
    }


async def in_child(name: str, base: str, database: str, messages: int, users: int) -> Any:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.turn_throughput",
        "--contender",
        name,
        "--base",
        base,
        "--database",
        database,
        "--messages",
        str(messages),
        "--users",
        str(users),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await child.communicate()
    if child.returncode:
        raise RuntimeError(f"{name} failed with exit code {child.returncode}")
    return json.loads(out.decode().strip().splitlines()[-1])


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


async def one_run(
    http: aiohttp.ClientSession, base: str, name: str, backend: str, args: argparse.Namespace
) -> Any:
    await control(http, base, "POST", "/reset")
    async with contextlib.AsyncExitStack() as stack:
        database = "sqlite+aiosqlite:///DATA/magpie.db"
        if name == "magpie" and backend == "postgres":
            database = await stack.enter_async_context(postgres_database())
        return await in_child(name, base, database, args.messages, args.users)


async def measure(args: argparse.Namespace) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sandbox = ["-m", "tg_sandbox", "--port", str(port), "--token", TOKEN]
    with process([*sandbox, "--flood", "off"], port=port):
        async with aiohttp.ClientSession() as http:
            for backend in args.db if args.rounds else []:
                print(f"{args.messages} private messages from {args.users} users — {backend}")
                print("  round  contender   updates/s   per turn p50 / p95 ms")
                ratios: dict[str, list[float]] = {"agent": [], "echo": []}
                for round_ in range(1, args.rounds + 1):
                    rates: dict[str, float] = {}
                    for name in CONTENDERS:
                        result = await one_run(http, base, name, backend, args)
                        rates[name] = result["rate"]
                        print(
                            f"  {round_:>5}  {name:<10} {result['rate']:10.0f}"
                            f"   {result['p50']:8.1f} / {result['p95']:.1f}",
                            flush=True,
                        )
                    ratios["agent"].append(rates["magpie"] / rates["agent"])
                    ratios["echo"].append(rates["magpie"] / rates["echo"])
                    ceiling = rates["agent"] / rates["echo"]
                    print(
                        f"         ratios: Magpie / agent {ratios['agent'][-1]:.2f}, "
                        f"Magpie / echo {ratios['echo'][-1]:.2f} (agent / echo {ceiling:.2f})"
                    )
                print(
                    f"  median Magpie / agent bot: {statistics.median(ratios['agent']):.2f}"
                    " (target >= 0.5)\n"
                    f"  median Magpie / echo bot:  {statistics.median(ratios['echo']):.2f}\n",
                    flush=True,
                )
            if args.memory_turns:
                await control(http, base, "POST", "/reset")
                database = "sqlite+aiosqlite:///DATA/magpie.db"
                result = await in_child(
                    "magpie", base, database, args.memory_turns, args.memory_chats
                )
                print(
                    f"Resident memory after {args.memory_turns} turns across "
                    f"{args.memory_chats} chats: {result['rss_after']:.0f} MB "
                    f"(the process held {result['rss_before']:.0f} MB before Magpie started)"
                )


def main() -> None:
    configure_logging("ERROR", "console")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--db", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--memory-turns", type=int, default=10_000)
    parser.add_argument("--memory-chats", type=int, default=1000)
    parser.add_argument("--contender", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:
        print(json.dumps(asyncio.run(contender(args))))
    else:
        asyncio.run(measure(args))


if __name__ == "__main__":
    main()
