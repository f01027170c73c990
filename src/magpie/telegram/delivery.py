"""The one sending path: every call Magpie makes to Telegram passes through here.

A request middleware on the bot's session (aiogram's public hook), so replies, command answers,
apologies and questions all get the same treatment: transient failures (5xx, connection resets,
timeouts) are retried with backoff, a 429 is waited out for its `retry_after` up to a cap, and
whatever still fails reaches the caller — with one log line and a metric — instead of vanishing.
Previews (drafts, paced edits) are marked best effort: one try, no waiting; a failed preview
only slows or stops the preview.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import structlog
from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from magpie.observability.metrics import Metrics

log = structlog.get_logger(__name__)
Sleep = Callable[[float], Awaitable[None]]
_best_effort: contextvars.ContextVar[bool] = contextvars.ContextVar("best_effort", default=False)


@contextlib.contextmanager
def best_effort() -> Iterator[None]:
    """Calls made inside are tried once: a preview that fails is simply skipped."""
    token = _best_effort.set(True)
    try:
        yield
    finally:
        _best_effort.reset(token)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How hard to try one call: attempts in all, backoff, the longest 429 wait accepted."""

    attempts: int = 4
    backoff_seconds: float = 0.5  # doubles per retry
    max_backoff_seconds: float = 8.0
    max_retry_after: float = 30.0


class Delivery(BaseRequestMiddleware):
    """Retries what is worth retrying; counts and logs what was not delivered."""

    def __init__(
        self,
        metrics: Metrics,
        policy: DeliveryPolicy | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.metrics = metrics
        self.policy = policy or DeliveryPolicy()
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if _best_effort.get() or isinstance(method, GetUpdates):  # polling has its own backoff
            return await make_request(bot, method)
        name = type(method).__name__
        attempt = 1
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                wait = float(error.retry_after)
                if wait > self.policy.max_retry_after or attempt >= self.policy.attempts:
                    self._give_up(name, "flood", attempt, error)
                    raise
                reason = "flood"
            except (TelegramServerError, TelegramNetworkError) as error:
                if attempt >= self.policy.attempts:
                    self._give_up(name, "transient", attempt, error)
                    raise
                wait = min(
                    self.policy.backoff_seconds * 2 ** (attempt - 1),
                    self.policy.max_backoff_seconds,
                )
                reason = "transient"
            self.metrics.telegram_retries.labels(name, reason).inc()
            log.info("telegram.retrying", method=name, reason=reason, attempt=attempt, wait=wait)
            await self.sleep(wait)
            attempt += 1

    def _give_up(self, method: str, reason: str, attempts: int, error: Exception) -> None:
        self.metrics.telegram_undelivered.labels(method, reason).inc()
        log.error(
            "telegram.undelivered",
            method=method,
            reason=reason,
            attempts=attempts,
            error=str(error)[:300],
        )
