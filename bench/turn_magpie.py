"""Magpie as a contender: configured as a user would, its model the instant server over HTTP.

Everything is as by default (durable inbox, history, the built-in tools offered, streaming);
the model is built by Magpie's own code from `LLM_MODEL=openai:bench-instant`,
`OPENAI_BASE_URL` and `OPENAI_API_KEY`, which the benchmark gives this process
(`bench.turn_throughput.magpie_environment`).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from bench.turn_load import TOKEN, Outcome, drive
from magpie.app import running, serve
from magpie.collector import tuned_for_serving
from magpie.config import load_settings
from magpie.observability.logging import configure_logging
from magpie.storage.database import Database
from magpie.storage.tables import TurnRow


async def magpie(
    base: str, database_url: str, *, messages: int, users: int, started: Callable[[], None]
) -> tuple[Outcome, list[float]]:
    """The load answered, and each turn's latency as Magpie recorded it."""
    configure_logging("ERROR", "console")
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            env_file=None,
            telegram_bot_token=TOKEN,
            telegram_api_url=base,
            data_dir=Path(data_dir),
            database_url=database_url.replace("DATA", data_dir),
            log_level="ERROR",
            # Telegram's limits off, as the sandbox's flood control is here: this measures
            # Magpie's turn, not Telegram's 30 messages/s (bench.broadcast measures the limiter)
            send_per_chat_per_second=0,
            send_per_group_per_minute=0,
            send_per_second=0,
            user_messages_per_minute=0,
            user_messages_per_day=0,
        )
        stop = asyncio.Event()
        async with running(settings) as runtime:
            with tuned_for_serving():  # as `magpie run` does
                started()
                serving = asyncio.create_task(serve(runtime, stop=stop))
                outcome = await drive(base, messages=messages, users=users)
                await runtime.pipeline.queues.join()
                db = await runtime.container.get(Database)
                async with db.read() as connection:
                    latencies = [
                        ms / 1000 for ms in await connection.scalars(select(TurnRow.latency_ms))
                    ]
                stop.set()
                await serving
    return outcome, latencies
