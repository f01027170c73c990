"""How fast the sandbox is, with the client in another process (issue: the sandbox).

Targets on a 2-core machine: sendMessage ≥ 2,000 calls/s sustained; 10,000 queued updates
delivered through getUpdates in < 3 s. Baseline in the same run: a bare aiohttp server that
answers every call with a canned message (the HTTP floor), measured with the same client.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp

from bench._procs import free_port, process, sandbox_command

TOKEN = "7000000001:SANDBOX-bench"


async def send_messages(base: str, chat_id: int, *, calls: int, connections: int) -> float:
    """Calls per second for `calls` sendMessage requests over `connections` connections."""
    url = f"{base}/bot{TOKEN}/sendMessage"
    remaining = calls
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                data = {"chat_id": str(chat_id), "text": "Hello *there*", "parse_mode": "Markdown"}
                async with http.post(url, data=data) as response:
                    body = await response.json()
                    assert body["ok"], body

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return calls / (time.perf_counter() - started)


async def deliver_updates(base: str, count: int) -> float:
    """Seconds to take `count` queued updates out through getUpdates, 100 at a time."""
    url = f"{base}/bot{TOKEN}/getUpdates"
    received, offset = 0, 0
    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        while received < count:
            async with http.post(url, data={"offset": str(offset), "limit": "100"}) as response:
                updates = (await response.json())["result"]
            if not updates:
                raise RuntimeError(f"only {received} of {count} updates arrived")
            received += len(updates)
            offset = updates[-1]["update_id"] + 1
        return time.perf_counter() - started


async def control(base: str, path: str, body: dict[str, object]) -> dict[str, object]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/sandbox/api{path}", json=body) as response,
    ):
        data = await response.json()
        assert data["ok"], data
        return data["result"]  # type: ignore[no-any-return]


async def measure(calls: int, updates: int, connections: int) -> None:
    sandbox_port, bare_port = free_port(), free_port()
    with (
        process(sandbox_command(sandbox_port, TOKEN), port=sandbox_port),
        process(["-m", "bench.bare_bot_api", str(bare_port)], port=bare_port),
    ):
        sandbox = f"http://127.0.0.1:{sandbox_port}"
        bare = f"http://127.0.0.1:{bare_port}"
        user = await control(sandbox, "/users", {"first_name": "Ann"})
        await control(sandbox, "/send", {"user_id": user["id"], "bot": "magpie_bot", "text": "hi"})
        await send_messages(sandbox, int(user["id"]), calls=500, connections=connections)  # warm
        await send_messages(bare, int(user["id"]), calls=500, connections=connections)
        sandbox_rate = await send_messages(
            sandbox, int(user["id"]), calls=calls, connections=connections
        )
        bare_rate = await send_messages(bare, int(user["id"]), calls=calls, connections=connections)
        await control(sandbox, "/reset", {})
        user = await control(sandbox, "/users", {"first_name": "Bob"})
        await control(
            sandbox,
            "/send",
            {"user_id": user["id"], "bot": "magpie_bot", "text": "update", "repeat": updates},
        )
        seconds = await deliver_updates(sandbox, updates)
    print(f"sendMessage, {connections} connections, {calls} calls")
    print(f"  sandbox: {sandbox_rate:8.0f} calls/s   (target >= 2000)")
    print(f"  bare   : {bare_rate:8.0f} calls/s   (baseline: canned answers)")
    print(f"  ratio  : {sandbox_rate / bare_rate:8.2f} of the HTTP floor")
    print(f"getUpdates: {updates} queued updates delivered in {seconds:.2f} s (target < 3 s)")
    print(f"  {updates / seconds:.0f} updates/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(measure(args.calls, args.updates, args.connections))


if __name__ == "__main__":
    main()
