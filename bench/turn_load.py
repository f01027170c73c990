"""The turn benchmarks' load: simulated users in the sandbox, driven through its control API."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

TOKEN = "7000000001:SANDBOX-bench"
BOT = "magpie_bot"


async def control(
    http: aiohttp.ClientSession, base: str, verb: str, path: str, body: object = None
) -> Any:
    """One call to the sandbox's control API; its `result`."""
    async with http.request(verb, f"{base}/sandbox/api{path}", json=body) as response:
        data = await response.json()
        assert data["ok"], data
        return data["result"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How long the load took to answer, and what the first user was told."""

    seconds: float
    replies: list[str]


async def drive(base: str, *, messages: int, users: int) -> Outcome:
    """Queue the load (each user sends its share at once); return once all are answered."""
    async with aiohttp.ClientSession() as http:
        before = int((await control(http, base, "GET", "/stats")).get("sendMessage", 0))
        ids = [
            (await control(http, base, "POST", "/users", {"first_name": f"U{i}"}))["id"]
            for i in range(users)
        ]
        started = time.perf_counter()
        per_user = messages // users
        for user_id in ids:
            body = {"user_id": user_id, "bot": BOT, "text": "hello", "repeat": per_user}
            await control(http, base, "POST", "/send", body)
        while True:  # a light check every 20 ms, so the driver does not load the sandbox
            counts = await control(http, base, "GET", "/stats")
            if int(counts.get("sendMessage", 0)) - before >= per_user * users:
                seconds = time.perf_counter() - started
                break
            await asyncio.sleep(0.02)
        query = f"/chat?bot={BOT}&user_id={ids[0]}"
        chat = await control(http, base, "GET", query)
        replies = [m.get("text", "") for m in chat["messages"] if m["from"]["is_bot"]]
        return Outcome(seconds, replies)
