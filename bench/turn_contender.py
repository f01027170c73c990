"""One contender of the turn benchmark in this (fresh) process; its figures as one JSON line.

`python -m bench.turn_contender NAME --base SANDBOX --llm LLM_URL [--database URL]
[--messages N] [--users M]`. Magpie's modules are imported only when Magpie runs, so the bare
bots' resident memory is aiogram's (and their SDK's), not Magpie's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from bench._procs import percentile
from bench.turn_bots import answerer, bare_bot

NAMES = ("echo", "naive", "naive-stream", "agent-wire", "magpie")


def rss_mb() -> float:
    """This process's resident memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Answer the load; throughput, turn times, what the first user was told, memory."""
    at_start: list[float] = []

    def started() -> None:
        at_start.append(rss_mb())

    if args.name == "magpie":
        from bench.turn_magpie import magpie

        outcome, durations = await magpie(
            args.base, args.database, messages=args.messages, users=args.users, started=started
        )
    else:
        async with answerer(args.name, args.llm) as answer:
            outcome, durations = await bare_bot(
                args.base, answer, messages=args.messages, users=args.users, started=started
            )
    return {
        "rate": args.messages / outcome.seconds,
        "p50": percentile(durations, 0.5) * 1000,
        "p95": percentile(durations, 0.95) * 1000,
        "replies": sorted(set(outcome.replies)),
        "rss_start": at_start[0],
        "rss_after": rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=NAMES)
    parser.add_argument("--base", required=True, help="the sandbox's URL")
    parser.add_argument("--llm", required=True, help="the instant LLM server's /v1 URL")
    parser.add_argument("--database", default="sqlite+aiosqlite:///DATA/magpie.db")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--users", type=int, default=100)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
