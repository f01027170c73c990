"""The one sending path: every call Magpie makes to Telegram passes through here.

A request middleware on the bot's session (aiogram's public hook), so replies, command answers,
apologies and questions all get the same treatment: each message waits its turn in the outgoing
limiter (limits/outgoing.py: per chat, per group, per bot), transient failures (5xx, connection
resets, timeouts) are retried with backoff, a 429 pauses the limiter for its `retry_after` (the
chat, or the whole bot) and is waited out up to a cap, and whatever still fails reaches the
caller — with one log line and a metric — instead of vanishing. Previews (drafts, paced edits)
are marked best effort: one try, no waiting, skipped when the limiter has no room now; a failed
or skipped preview only slows or stops the preview.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
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

from magpie.limits.outgoing import ChatRef, FloodSignals, OutgoingLimiter
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
    """How hard to try one call: attempts after transient failures, 429s waited out, backoff,
    the longest 429 wait accepted, the longest a message may queue in the limiter."""

    attempts: int = 4
    flood_attempts: int = 10
    backoff_seconds: float = 0.5  # doubles per retry
    max_backoff_seconds: float = 8.0
    max_retry_after: float = 30.0
    max_queue_seconds: float = 30.0


LIMITED_PREFIXES = ("Send", "Edit", "Forward", "Copy", "StopPoll")
UNLIMITED = frozenset({"SendChatAction"})  # not a message: Telegram does not count it


def destination(method: TelegramMethod[TelegramType]) -> tuple[bool, ChatRef | None]:
    """(counts against the outgoing limits, the chat it goes to)."""
    name = type(method).__name__
    if name in UNLIMITED or not name.startswith(LIMITED_PREFIXES):
        return False, None
    chat = getattr(method, "chat_id", None)
    return True, chat if isinstance(chat, int | str) else None


class Shed(TelegramRetryAfter):
    """Not sent: Magpie's own limiter had no room for it soon enough (nothing reached Telegram)."""


class Delivery(BaseRequestMiddleware):
    """Retries what is worth retrying; counts and logs what was not delivered."""

    def __init__(
        self,
        metrics: Metrics,
        policy: DeliveryPolicy | None = None,
        *,
        limiter: OutgoingLimiter | None = None,
        signals: FloodSignals | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.metrics = metrics
        self.policy = policy or DeliveryPolicy()
        self.limiter = limiter
        self.signals = signals or FloodSignals()
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        polling = isinstance(method, GetUpdates)  # polling has its own backoff
        if polling:
            return await make_request(bot, method)
        limited, chat = destination(method)
        limited = limited and self.limiter is not None
        if _best_effort.get():
            return await self._preview(make_request, bot, method, limited=limited, chat=chat)
        name = type(method).__name__
        attempt = floods = 1
        while True:
            if limited:
                await self._take_turn(method, chat, attempt=attempt)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                wait = float(error.retry_after)
                await self._pause(chat, wait, name, limited=limited)
                if wait > self.policy.max_retry_after or floods >= self.policy.flood_attempts:
                    self._give_up(name, "flood", attempt, error)
                    raise
                reason, floods = "flood", floods + 1
            except (TelegramServerError, TelegramNetworkError) as error:
                if attempt >= self.policy.attempts:
                    self._give_up(name, "transient", attempt, error)
                    raise
                wait = min(
                    self.policy.backoff_seconds * 2 ** (attempt - 1),
                    self.policy.max_backoff_seconds,
                )
                reason, attempt = "transient", attempt + 1
            self.metrics.telegram_retries.labels(name, reason).inc()
            log.info("telegram.retrying", method=name, reason=reason, attempt=attempt, wait=wait)
            if not (limited and reason == "flood"):  # else the limiter's pause is the wait
                await self.sleep(wait)

    async def _preview(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
        *,
        limited: bool,
        chat: ChatRef | None,
    ) -> Response[TelegramType]:
        """Tried once, only if the limiter has room now; a 429 still pauses the limiter."""
        if limited:
            assert self.limiter is not None
            # room now, in every bucket, with one message to spare for the final answer
            slot = await self.limiter.reserve(chat, within=0.0, level="both", spare=1)
            if not slot.taken:
                self.metrics.telegram_shed.labels(type(method).__name__).inc()
                raise Shed(method, "no room in the outgoing limits", math.ceil(slot.wait))
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as error:
            await self._pause(
                chat, float(error.retry_after), type(method).__name__, limited=limited
            )
            raise

    async def _take_turn(
        self, method: TelegramMethod[TelegramType], chat: ChatRef | None, *, attempt: int
    ) -> None:
        """Wait for this message's moment in the outgoing limits: its chat's, then the bot's
        (or fail, if it is further away than the policy lets a message queue)."""
        assert self.limiter is not None
        waited = 0.0
        for level in ("chat", "bot"):
            within = self.policy.max_queue_seconds - waited
            slot = await self.limiter.reserve(chat, within=within, level=level)
            if not slot.taken:
                error = Shed(method, "the outgoing limits are full", math.ceil(slot.wait))
                self._give_up(type(method).__name__, "flood", attempt, error)
                raise error
            if slot.wait > 0:
                waited += slot.wait
                await self.sleep(slot.wait)
        if waited > 0:
            self.metrics.telegram_limiter_wait.observe(waited)

    async def _pause(
        self, chat: ChatRef | None, seconds: float, method: str, *, limited: bool
    ) -> None:
        """Telegram said 429: nothing more goes where it said so until `retry_after` is over."""
        if not limited:
            return
        assert self.limiter is not None
        scope = self.signals.scope(chat)
        await self.limiter.pause(scope, seconds)
        where = "bot" if scope is None else "chat"
        self.metrics.telegram_paused.labels(where).inc()
        log.warning("telegram.paused", scope=where, chat_id=scope, seconds=seconds, method=method)

    def _give_up(self, method: str, reason: str, attempts: int, error: Exception) -> None:
        self.metrics.telegram_undelivered.labels(method, reason).inc()
        log.error(
            "telegram.undelivered",
            method=method,
            reason=reason,
            attempts=attempts,
            error=str(error)[:300],
        )
