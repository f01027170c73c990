"""Long polling: ask for updates, record them, and only then acknowledge them (next offset)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

from magpie.ingress.pipeline import UpdatePipeline

log = structlog.get_logger(__name__)
POLL_TIMEOUT = 25
RECORD_RETRY_SECONDS = 5.0  # the database refused a batch: try again (unacknowledged) after this


async def poll(
    bot: Bot,
    pipeline: UpdatePipeline,
    *,
    allowed_updates: list[str],
    offset: int | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Loop until `stop` is set; network trouble backs off exponentially up to a minute."""
    stop = stop or asyncio.Event()
    backoff = 1.0
    while not stop.is_set():
        fetch = asyncio.ensure_future(
            bot.get_updates(
                offset=offset,
                timeout=POLL_TIMEOUT,
                allowed_updates=allowed_updates,
                request_timeout=POLL_TIMEOUT + 10,
            )
        )
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()  # not acknowledged: Telegram sends these again next time
            with contextlib.suppress(asyncio.CancelledError):
                await fetch
            return
        try:
            updates = fetch.result()
        except TelegramRetryAfter as error:
            await _sleep(stop, error.retry_after)
            continue
        except (TelegramNetworkError, TelegramServerError) as error:
            log.warning("polling.retrying", error=str(error), in_seconds=backoff)
            await _sleep(stop, backoff)
            backoff = min(60.0, backoff * 2)
            continue
        backoff = 1.0
        if not updates:
            continue
        try:
            await pipeline.accept(updates)  # durable first...
        except Exception:
            log.exception("polling.record_failed", in_seconds=RECORD_RETRY_SECONDS)
            await _sleep(stop, RECORD_RETRY_SECONDS)  # not acknowledged: the batch comes again
            continue
        offset = updates[-1].update_id + 1  # ...then acknowledged by the next request


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
