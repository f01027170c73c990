"""The fault drills at scale: the same scenarios as tests/drills, with 10,000 updates each.

kill -9 at random points of a backlog (once right after start), the database refusing
mid-traffic (PostgreSQL through a proxy; SQLite write-locked), Telegram answering 5xx,
resets, hangs and 429 storms, and SIGTERM mid-stream — each on SQLite and on PostgreSQL,
Magpie running as its own process against the sandbox. Printed per scenario and database:
updates in, answered once, resent with the same text (kill -9 only: ADR 12's edge), answered
twice (differently), lost, failed with a reason (and: user messages not
stored, answered turns without a delivered reply, answers delivered but not recorded), with
what was wrong and examples (update ids, log lines).

`python -m bench.drills [--updates 10000] [--db sqlite,postgres] [--only kill,...] [--json F]`
(PostgreSQL at MAGPIE_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.databases import fresh_database_url
from tests.drills.end_state import Tally
from tests.drills.harness import BOT_USERNAME, TOKEN, Drill, Launcher, new_sandbox
from tests.drills.scenarios import crash_loop, database_outage, sigterm_mid_stream, telegram_faults

Scenario = Callable[[Drill, int], Awaitable[Tally]]
GROUP_MEMBERS = 4


async def kill_9(drill: Drill, updates: int) -> Tally:
    users = updates // 20
    return await crash_loop(drill, users=users, per_user=updates // users)


async def database(drill: Drill, updates: int) -> Tally:
    users = updates // 20
    return await database_outage(drill, users=users, per_user=(10, 5, 5))


async def telegram(drill: Drill, updates: int) -> Tally:
    in_group = updates // 25
    users = (updates - in_group) // 20
    return await telegram_faults(
        drill,
        users=users,
        per_user=20,
        group_members=GROUP_MEMBERS,
        per_member=in_group // GROUP_MEMBERS,
        storm=max(1, updates // 300),
    )


async def sigterm(drill: Drill, updates: int) -> Tally:
    users = updates // 20
    return await sigterm_mid_stream(drill, users=users, per_user=updates // users)


SCENARIOS: dict[str, Scenario] = {
    "kill": kill_9,
    "database": database,
    "telegram": telegram,
    "sigterm": sigterm,
}


async def one(name: str, backend: str, updates: int, launcher: Launcher) -> tuple[Tally, float]:
    """One scenario on a fresh database and a fresh sandbox; its tally and how long it took."""
    with tempfile.TemporaryDirectory(prefix=f"drill-{name}-") as workdir:
        async with fresh_database_url(backend, Path(workdir)) as url, new_sandbox() as sandbox:
            account = sandbox.add_bot(token=TOKEN, username=BOT_USERNAME)
            drill = Drill(
                sandbox, account, backend, url, url, Path(workdir), launcher, patience=900.0
            )
            started = time.perf_counter()
            try:
                tally = await SCENARIOS[name](drill, updates)
            finally:
                await drill.close()
            return tally, time.perf_counter() - started


def table(results: list[tuple[Tally, float]]) -> str:
    rows = [
        "| scenario | database | in | answered once | resent (same text) | answered twice | lost "
        "| failed with reason | not stored | answered, not delivered | delivered, not recorded "
        "| minutes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t, seconds in results:
        rows.append(
            f"| {t.scenario} | {t.database} | {t.sent:,} | {t.answered_once:,} | {t.resent:,} | "
            f"{t.answered_twice:,} | {t.lost:,} | {t.failed_with_reason:,} | {t.not_stored:,} | "
            f"{t.answered_undelivered:,} | {t.unrecorded_replies:,} | {seconds / 60:.1f} |"
        )
    return "\n".join(rows)


async def main(args: argparse.Namespace) -> list[tuple[Tally, float]]:
    launcher = Launcher()
    results: list[tuple[Tally, float]] = []
    try:
        for name in args.only.split(","):
            for backend in args.db.split(","):
                tally, seconds = await one(name, backend, args.updates, launcher)
                print(tally.report(), f"\n  ({seconds:.0f} s)", flush=True)
                results.append((tally, seconds))
    finally:
        launcher.close()
    print()
    print(table(results))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--json", default="")
    arguments = parser.parse_args()
    done = asyncio.run(main(arguments))
    if arguments.json:
        Path(arguments.json).write_text(
            json.dumps([t.as_json() | {"seconds": round(s)} for t, s in done], indent=2)
        )
