"""Long polling: ask for updates, record them, and only then acknowledge them (next offset).

No faster than they are handled: while `MAX_BACKLOG` updates wait or run (ingress/ordering.py),
the next batch is not asked for, so a backlog waits at Telegram instead of in memory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

from magpie.ingress.pipeline import UpdatePipeline

log = structlog.get_logger(__name__)
POLL_TIMEOUT = 25
T = TypeVar("T")
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
        if await _until(stop, pipeline.queues.room()) is None:
            return  # stopped while the backlog was full: nothing fetched, nothing to hand back
        fetch = await _until(
            stop,
            bot.get_updates(
                offset=offset,
                timeout=POLL_TIMEOUT,
                allowed_updates=allowed_updates,
                request_timeout=POLL_TIMEOUT + 10,
            ),
        )
        if fetch is None:
            return  # cut off by the stop: not acknowledged, Telegram sends these again
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


async def _until(stop: asyncio.Event, waiting: Coroutine[Any, Any, T]) -> asyncio.Future[T] | None:
    """Run `waiting` unless `stop` comes first: its finished future (the result, or the error
    it raised), or None once it has been cancelled and has wound down."""
    done = asyncio.ensure_future(waiting)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({done, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if done.done():
        return done
    done.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await done
    return None


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
