"""Magpie's turn over the real wire, against bare aiogram bots on the same servers (issue 8).

N private messages from M simulated users go through the sandbox (a local Bot API server) to a
bot that asks the instant OpenAI-compatible server (`bench/instant_llm.py`) over HTTP, read by
the real `openai` SDK. Both servers run in their own processes; every contender runs in a fresh
process, in rounds (these machines are noisy: compare the ratios within a round):

- `echo`: a bare aiogram echo bot, no model (the floor);
- `naive`: aiogram + `openai.AsyncOpenAI`, the last 40 messages per chat in RAM, no streaming;
- `naive-stream`: the same bot with `stream=True` (the chunks read, then one reply);
- `agent-wire`: aiogram + a bare pydantic-ai `Agent` (`OpenAIChatModel`, `run_stream`);
- `magpie`: Magpie as configured by default — durable inbox, history, the built-in tools
  offered, streaming — with `LLM_MODEL=openai:bench-instant` and `OPENAI_BASE_URL` pointing at
  the instant server, so its own model-building code makes the client. On SQLite and on
  PostgreSQL, in the same round as the bots.

Printed: the instant server's own capacity; per database, updates/s and p50/p95 per turn for
each contender and round, the median Magpie / naive-stream (target >= 0.6) and Magpie / naive;
CPU per call layer by layer (`bench/layer_costs.py`); resident memory after 10,000 turns across
1,000 chats for Magpie and the echo bot (target <= 1.5x), and right after start-up.

`python -m bench.turn_throughput [--quick] [--rounds 3] [--messages 1000] [--users 100]
[--db sqlite postgres] [--memory-turns 10000] [--memory-chats 1000] [--layer-calls 200]`
(`--rounds 0`, `--memory-turns 0` or `--layer-calls 0` skip a part).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]

from bench._procs import free_port, process, sandbox_command
from bench.instant_llm import MODEL, REPLY, capacity
from bench.turn_load import TOKEN, control

POSTGRES = os.environ.get(
    "MAGPIE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
SQLITE = "sqlite+aiosqlite:///DATA/magpie.db"
BASELINES = ("echo", "naive", "naive-stream", "agent-wire")
TARGET_STREAM, TARGET_MEMORY = 0.6, 1.5
Result = dict[str, Any]


def magpie_environment(llm_url: str) -> dict[str, str]:
    """What a user sets to point Magpie at an OpenAI-compatible server."""
    return {"LLM_MODEL": f"openai:{MODEL}", "OPENAI_BASE_URL": llm_url, "OPENAI_API_KEY": "bench"}


@dataclass(frozen=True, slots=True)
class Servers:
    """Where the sandbox and the instant LLM server listen."""

    sandbox: str
    llm: str


@contextlib.contextmanager
def servers() -> Iterator[Servers]:
    """The sandbox and the instant LLM server, each in its own process."""
    sandbox_port, llm_port = free_port(), free_port()
    with (
        process(sandbox_command(sandbox_port, TOKEN), port=sandbox_port),
        process(["-m", "bench.instant_llm", str(llm_port)], port=llm_port),
    ):
        yield Servers(f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{llm_port}/v1")


async def in_child(
    name: str, at: Servers, *, database: str = SQLITE, messages: int, users: int
) -> Result:
    """One contender's run in a fresh process, on a freshly reset sandbox."""
    async with aiohttp.ClientSession() as http:
        await control(http, at.sandbox, "POST", "/reset")
    args = [name, "--base", at.sandbox, "--llm", at.llm, "--database", database]
    args += ["--messages", str(messages), "--users", str(users)]
    begun = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.turn_contender",
        *args,
        stdout=asyncio.subprocess.PIPE,
        env=os.environ | magpie_environment(at.llm),
    )
    out, _ = await child.communicate()
    if child.returncode:
        raise RuntimeError(f"{name} failed with exit code {child.returncode}")
    result: Result = json.loads(out.decode().strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - begun
    expected = ["hello"] if name == "echo" else ["".join(REPLY)]
    if result["replies"] != expected:
        raise RuntimeError(f"{name} answered {result['replies']!r}, not {expected!r}")
    return result


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A database of its own for one run, dropped afterwards."""
    name = f"magpie_bench_{uuid.uuid4().hex[:8]}"
    admin = POSTGRES.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]
    connection = await asyncpg.connect(admin + "/postgres")
    await connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


async def postgres_reachable() -> bool:
    admin = POSTGRES.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]
    try:
        connection = await asyncpg.connect(admin + "/postgres", timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        print(f"PostgreSQL at {POSTGRES} is not reachable ({error}): measuring SQLite only")
        return False
    await connection.close()
    return True


async def magpie_on(backend: str, at: Servers, *, messages: int, users: int) -> Result:
    async with contextlib.AsyncExitStack() as stack:
        database = SQLITE
        if backend == "postgres":
            database = await stack.enter_async_context(postgres_database())
        return await in_child("magpie", at, database=database, messages=messages, users=users)


def progress(round_: int, name: str, result: Result) -> None:
    print(
        f"  round {round_}  {name:<16} {result['rate']:7.1f} updates/s"
        f"   per turn p50 {result['p50']:7.1f} / p95 {result['p95']:7.1f} ms"
        f"   ({result['wall']:.0f} s with start-up)",
        flush=True,
    )


async def rounds(
    args: argparse.Namespace, at: Servers, backends: list[str], *, capacity: float
) -> None:
    """Every contender once per round; Magpie once per database in the same round."""
    print(f"\n{args.messages} private messages from {args.users} users, {args.rounds} round(s)")
    table: dict[str, list[Result]] = {backend: [] for backend in backends}
    baselines: list[Result] = []
    for round_ in range(1, args.rounds + 1):
        runs: Result = {}
        for name in BASELINES:
            runs[name] = await in_child(name, at, messages=args.messages, users=args.users)
            progress(round_, name, runs[name])
        baselines.append(runs)
        for backend in backends:
            magpie = await magpie_on(backend, at, messages=args.messages, users=args.users)
            progress(round_, f"magpie ({backend})", magpie)
            table[backend].append(magpie)
    for backend in backends:
        report(backend, baselines, table[backend], args)
    busiest = max(
        [runs[name]["rate"] for runs in baselines for name in BASELINES if name != "echo"]
        + [magpie["rate"] for results in table.values() for magpie in results]
    )
    print(
        f"The busiest contender asked the instant server for {busiest:.0f} calls/s, "
        f"{capacity / busiest:.0f}x below what it answers.",
        flush=True,
    )


def cell(result: Result) -> str:
    return f"{result['rate']:.0f} ({result['p50']:.0f} / {result['p95']:.0f})"


def report(
    backend: str, baselines: list[Result], magpies: list[Result], args: argparse.Namespace
) -> None:
    """One database's rounds as a markdown table, then the median ratios."""
    title = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[backend]
    print(
        f"\n{title}: updates/s (per turn p50 / p95 ms), {args.messages} messages from "
        f"{args.users} users; the bots are shared by both databases within a round"
    )
    names = [*BASELINES, "Magpie"]
    print("| round | " + " | ".join(names) + " | Magpie / naive-stream | Magpie / naive |")
    print("|---" * (len(names) + 3) + "|")
    streamed, whole = [], []
    for round_, (runs, magpie) in enumerate(zip(baselines, magpies, strict=True), start=1):
        streamed.append(magpie["rate"] / runs["naive-stream"]["rate"])
        whole.append(magpie["rate"] / runs["naive"]["rate"])
        cells = [cell(runs[name]) for name in BASELINES] + [cell(magpie)]
        print(f"| {round_} | " + " | ".join(cells) + f" | {streamed[-1]:.2f} | {whole[-1]:.2f} |")
    met = "met" if statistics.median(streamed) >= TARGET_STREAM else "NOT met"
    print(
        f"median Magpie / naive-stream: {statistics.median(streamed):.2f} "
        f"(target >= {TARGET_STREAM}: {met}); median Magpie / naive: "
        f"{statistics.median(whole):.2f}",
        flush=True,
    )


async def memory(args: argparse.Namespace, at: Servers) -> None:
    """Resident memory of Magpie and of the echo bot, after start-up and after the same load."""
    load = {"messages": args.memory_turns, "users": args.memory_chats}
    echo = await in_child("echo", at, **load)
    magpie = await in_child("magpie", at, **load)
    print(f"\nResident memory, {args.memory_turns} turns across {args.memory_chats} chats (SQLite)")
    print("| bot | after imports + start-up | after the load | growth |")
    print("|---|---|---|---|")
    for name, result in (("aiogram echo bot", echo), ("Magpie", magpie)):
        grown = result["rss_after"] - result["rss_start"]
        print(
            f"| {name} | {result['rss_start']:.0f} MB | {result['rss_after']:.0f} MB "
            f"| {grown:+.0f} MB |"
        )
    ratio = magpie["rss_after"] / echo["rss_after"]
    met = "met" if ratio <= TARGET_MEMORY else "NOT met"
    start = magpie["rss_start"] / echo["rss_start"]
    print(
        f"Magpie / echo after the load: {ratio:.2f}x (target <= {TARGET_MEMORY}x: {met}); "
        f"after start-up: {start:.2f}x",
        flush=True,
    )


async def server_capacity(at: Servers, calls: int) -> float:
    """The instant server's own rate (the lower of whole and streamed), to show it keeps up."""
    whole = await capacity(at.llm, stream=False, calls=calls)
    streamed = await capacity(at.llm, stream=True, calls=calls)
    print(
        f"Instant LLM server (its own process; raw aiohttp client in another, 32 connections): "
        f"{whole:.0f} calls/s whole, {streamed:.0f} calls/s streamed",
        flush=True,
    )
    return min(whole, streamed)


async def measure(args: argparse.Namespace) -> None:
    with servers() as at:
        most = await server_capacity(at, args.capacity_calls)
        backends = [b for b in args.db if b != "postgres" or await postgres_reachable()]
        if args.rounds:
            await rounds(args, at, backends, capacity=most)
        if args.layer_calls:
            print(flush=True)
            costs = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.layer_costs",
                "--llm",
                at.llm,
                "--calls",
                str(args.layer_calls),
            )
            if await costs.wait():
                raise RuntimeError("bench.layer_costs failed")
        if args.memory_turns:
            await memory(args, at)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of every part")
    parser.add_argument("--messages", type=int)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int)
    parser.add_argument(
        "--db", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--memory-turns", type=int)
    parser.add_argument("--memory-chats", type=int)
    parser.add_argument("--layer-calls", type=int)
    parser.add_argument("--capacity-calls", type=int)
    args = parser.parse_args()
    defaults = (
        {"messages": 200, "rounds": 1, "memory_turns": 500, "memory_chats": 50}
        | {"layer_calls": 20, "capacity_calls": 500}
        if args.quick
        else {"messages": 1000, "rounds": 3, "memory_turns": 10_000, "memory_chats": 1000}
        | {"layer_calls": 200, "capacity_calls": 3000}
    )
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
