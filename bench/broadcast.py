"""A broadcast through the outgoing limiter over the real wire (issue 11, scope 7).

The sandbox runs in its own process with Telegram's flood control on (`--flood telegram`: 1/s
per chat with a burst of 3, 20/min per group, 30/s per bot with a burst of 30, answered with
429 and retry_after). One message goes to each of N = 1,000 private chats, all asked for at
once, three times, each by its own bot (so each starts with fresh buckets):

- **naive** — aiogram with no limiter and no retries: what flood control makes of it (the
  baseline: how many 429s, how many delivered);
- **limited** — Magpie's sending path (`telegram/delivery.py` with `limits/outgoing.py`'s
  `MemoryOutgoing`, its default limits): the rate the sandbox saw, against the 30/s it allows,
  and its 429s (target: ≥ 95 % of 30/s, zero 429s);
- **storm** — the same, while the sandbox answers the next 100 sendMessage calls with
  `429 retry_after=3` (fault injection): every chat must get its message exactly once;
- **shared** (with `--redis URL`, default `MAGPIE_TEST_REDIS_URL`) — two senders, as two
  processes would be, each with its own `RedisOutgoing` on one Redis, half the chats each: the
  rate they reach together and their 429s.

Run: `.venv/bin/python -m bench.broadcast [--chats 1000] [--storm 100] [--redis URL]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter

from bench._procs import free_port, process, sandbox_command
from magpie.limits.outgoing import MemoryOutgoing, OutgoingLimiter
from magpie.observability.logging import configure_logging
from magpie.observability.metrics import Metrics
from magpie.telegram.delivery import Delivery, DeliveryPolicy

TOKENS = {
    "magpie_bot": "7000000001:SANDBOX-broadcast-naive",
    "magpie_bot2": "7000000002:SANDBOX-broadcast-limited",
    "magpie_bot3": "7000000003:SANDBOX-broadcast-storm",
    "magpie_bot4": "7000000004:SANDBOX-broadcast-shared",
}
TELEGRAM_RATE = 30.0  # messages per second for one bot (Bots FAQ; the sandbox's global_rate)
TEXT = "Magpie news: the broadcast bench says hello."


def sends(bot: Bot, chats: Iterable[int], text: str = TEXT) -> list[Awaitable[str]]:
    """One send per chat, each ending as "ok", "429" or the error's name (never raising)."""

    async def one(chat_id: int) -> str:
        try:
            await bot.send_message(chat_id, text)
        except TelegramRetryAfter:
            return "429"
        except TelegramAPIError as error:
            return type(error).__name__
        return "ok"

    return [one(chat) for chat in chats]


def limited_bot(
    api: str,
    token: str,
    *,
    sleep: Any = asyncio.sleep,
    clock: Any = None,
    limiter: OutgoingLimiter | None = None,
) -> Bot:
    """A bot with Magpie's sending path and its default outgoing limits; a broadcast may queue
    as long as it takes (a reply would give up after 30 s)."""
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    if limiter is None:
        limiter = MemoryOutgoing() if clock is None else MemoryOutgoing(clock=clock)
    policy = DeliveryPolicy(max_queue_seconds=3600)
    bot.session.middleware(Delivery(Metrics(), policy, limiter=limiter, sleep=sleep))
    return bot


@dataclass(frozen=True)
class Seen:
    """What the server saw of one broadcast."""

    delivered: int
    chats: int  # distinct chats that got it
    refused_429: int
    seconds: float  # first to last delivered message, by the server's clock
    sustained: float  # messages/s after the limiter's burst

    @classmethod
    def of(cls, entries: list[dict[str, Any]], *, burst: int = 10) -> Seen:
        ok = sorted(float(e["at"]) for e in entries if e["ok"])
        chats = {str(e["params"]["chat_id"]) for e in entries if e["ok"]}
        refused = sum(1 for e in entries if not e["ok"] and e.get("error_code") == 429)
        span = ok[-1] - ok[0] if len(ok) > 1 else 0.0
        paced = ok[burst:] if len(ok) > burst + 1 else ok
        sustained = (len(paced) - 1) / (paced[-1] - paced[0]) if len(paced) > 1 else 0.0
        return cls(len(ok), len(chats), refused, span, sustained)


async def control(http: aiohttp.ClientSession, base: str, verb: str, path: str, **body: Any) -> Any:
    async with http.request(verb, f"{base}/sandbox/api{path}", json=body) as response:
        data = await response.json()
        assert data["ok"], data
        return data["result"]


async def people(http: aiohttp.ClientSession, base: str, n: int) -> list[int]:
    """N people, each of whom has written to every bot (so each bot may write back)."""
    ids: list[int] = []
    for start in range(0, n, 50):
        batch = await asyncio.gather(
            *(
                control(http, base, "POST", "/users", first_name=f"P{i}")
                for i in range(start, min(n, start + 50))
            )
        )
        ids += [int(user["id"]) for user in batch]
    for bot in TOKENS:
        for start in range(0, n, 50):
            await asyncio.gather(
                *(
                    control(http, base, "POST", "/send", user_id=u, bot=bot, text="/start")
                    for u in ids[start : start + 50]
                )
            )
    return ids


async def transcript(http: aiohttp.ClientSession, base: str, bot: str) -> list[dict[str, Any]]:
    entries = await control(http, base, "GET", "/transcript", bot=bot, method="sendMessage")
    return list(entries)


async def shared(base: str, ids: list[int], redis_url: str) -> tuple[Counter[str], float]:
    """Two senders on one bot, each with its own limiter instance on one Redis."""
    from magpie.limits.redis_client import connect
    from magpie.limits.redis_outgoing import RedisOutgoing

    redis = connect(redis_url)  # as di.py makes it
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    bots = [
        limited_bot(base, TOKENS["magpie_bot4"], limiter=RedisOutgoing(redis, namespace=namespace))
        for _ in range(2)
    ]
    try:
        started = time.perf_counter()
        halves = [sends(bots[0], ids[0::2]), sends(bots[1], ids[1::2])]
        outcomes = Counter(await asyncio.gather(*halves[0], *halves[1]))
        return outcomes, time.perf_counter() - started
    finally:
        for bot in bots:
            await bot.session.close()
        await redis.aclose()


async def measure(chats: int, storm: int, redis_url: str | None) -> None:
    configure_logging("ERROR", "console")  # the storm's telegram.paused lines are expected
    port = free_port()
    first, *others = TOKENS.values()
    with process(sandbox_command(port, first, flood="telegram", more_tokens=others), port=port):
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            ids = await people(http, base, chats)

            naive = Bot(
                TOKENS["magpie_bot"], session=AiohttpSession(api=TelegramAPIServer.from_base(base))
            )
            started = time.perf_counter()
            naive_outcomes = Counter(await asyncio.gather(*sends(naive, ids)))
            naive_seconds = time.perf_counter() - started
            await naive.session.close()
            naive_seen = Seen.of(await transcript(http, base, "magpie_bot"))

            limited = limited_bot(base, TOKENS["magpie_bot2"])
            started = time.perf_counter()
            limited_outcomes = Counter(await asyncio.gather(*sends(limited, ids)))
            limited_seconds = time.perf_counter() - started
            await limited.session.close()
            limited_seen = Seen.of(await transcript(http, base, "magpie_bot2"))

            await control(
                http,
                base,
                "POST",
                "/faults",
                method="sendMessage",
                status=429,
                retry_after=3,
                times=storm,
                token=TOKENS["magpie_bot3"],
            )
            stormy = limited_bot(base, TOKENS["magpie_bot3"])
            started = time.perf_counter()
            storm_outcomes = Counter(await asyncio.gather(*sends(stormy, ids)))
            storm_seconds = time.perf_counter() - started
            await stormy.session.close()
            storm_seen = Seen.of(await transcript(http, base, "magpie_bot3"))

            if redis_url:
                shared_outcomes, shared_seconds = await shared(base, ids, redis_url)
                shared_seen = Seen.of(await transcript(http, base, "magpie_bot4"))

    share = limited_seen.sustained / TELEGRAM_RATE
    print(
        f"broadcast: 1 message to each of {chats} private chats, asked for at once; "
        f"sandbox flood control on (30/s per bot)"
    )
    print(
        "| sender | delivered | distinct chats | 429s from the sandbox | wall time | "
        "rate the sandbox saw (after the burst) |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| naive (baseline, no limiter) | {naive_outcomes['ok']} | {naive_seen.chats} | "
        f"{naive_seen.refused_429} | {naive_seconds:.1f} s | — |"
    )
    print(
        f"| Magpie's sending path | {limited_outcomes['ok']} | {limited_seen.chats} | "
        f"{limited_seen.refused_429} | {limited_seconds:.1f} s | "
        f"{limited_seen.sustained:.2f}/s = {share:.1%} of 30/s |"
    )
    print(
        f"| … in a 429 storm ({storm} × retry_after 3) | {storm_outcomes['ok']} | "
        f"{storm_seen.chats} | {storm_seen.refused_429} ({storm} injected) | "
        f"{storm_seconds:.1f} s | {storm_seen.sustained:.2f}/s |"
    )
    if redis_url:
        print(
            f"| two senders, one budget in Redis | {shared_outcomes['ok']} | "
            f"{shared_seen.chats} | {shared_seen.refused_429} | {shared_seconds:.1f} s | "
            f"{shared_seen.sustained:.2f}/s = {shared_seen.sustained / TELEGRAM_RATE:.1%} "
            "of 30/s |"
        )
    target = share >= 0.95 and limited_seen.refused_429 == 0
    lossless = storm_seen.chats == chats == storm_seen.delivered
    print(
        f"target ≥ 95 % of 30/s with zero 429s: {'met' if target else 'NOT met'}; "
        f"storm waited out without loss or duplicates: {'yes' if lossless else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--storm", type=int, default=100)
    parser.add_argument("--redis", default=os.environ.get("MAGPIE_TEST_REDIS_URL"))
    args = parser.parse_args()
    asyncio.run(measure(args.chats, args.storm, args.redis))


if __name__ == "__main__":
    main()
