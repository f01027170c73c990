"""From raw update to handled: record in the inbox, then dispatch once, in per-chat order.

How an update ends in the inbox:
- `done`: aiogram handled it (or no handler wanted it).
- `failed`, with the error: handling raised (the errors router apologised and raised it again).
  A database outage is the exception: the update is tried again in its lane, after a pause that
  doubles up to OUTAGE_PAUSE_CAP, for up to OUTAGE_RETRY_SECONDS in all, then marked failed.
- `skipped`: a type of update this aiogram does not know; recorded, never dispatched.
- still `pending`: Magpie stopped or died while handling it; the next start handles it again.
  A stop (the handler cancelled) does not count as an attempt; dying does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import structlog
from aiogram import Bot, Dispatcher
from aiogram.types import Update

from magpie.ingress.ordering import ChatQueues, conversation_of, is_urgent
from magpie.observability.metrics import Metrics
from magpie.storage.inbox import Inbox
from magpie.storage.outages import database_unavailable
from magpie.telegram.middlewares import log_context

log = structlog.get_logger(__name__)
OUTAGE_RETRY_SECONDS = 60.0
OUTAGE_PAUSE_CAP = 10.0
Sleep = Callable[[float], Awaitable[None]]


def known(update: Update) -> bool:
    """Whether this aiogram knows the update's type (Telegram adds new ones now and then)."""
    try:
        update.event_type  # noqa: B018 (raises for an unknown type)
    except LookupError:
        return False
    return True


def update_kind(update: Update) -> str:
    return update.event_type if known(update) else "unknown"


def dump(update: Update) -> str:
    return update.model_dump_json(exclude_none=True, by_alias=True)


def outage_pauses(total: float, *, cap: float) -> Iterator[float]:
    """0.5 s, 1 s, 2 s … up to `cap` each, `total` seconds in all."""
    pause, waited = 0.5, 0.0
    while waited < total:
        step = min(pause, cap, total - waited)
        yield step
        waited += step
        pause *= 2


class UpdatePipeline:
    """The one way updates enter Magpie, whether they came by polling or by webhook."""

    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        bot: Bot,
        inbox: Inbox,
        metrics: Metrics,
        username: str,
        queues: ChatQueues | None = None,
        outage_retry: float = OUTAGE_RETRY_SECONDS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.inbox = inbox
        self.metrics = metrics
        self.username = username
        self.queues = queues or ChatQueues()
        self.outage_retry = outage_retry
        self.sleep = sleep

    def parse(self, payload: dict[str, Any]) -> Update:
        """An update from its JSON (raises pydantic's ValidationError if it is not one)."""
        return Update.model_validate(payload, context={"bot": self.bot})

    async def accept(self, updates: list[Update]) -> None:
        """Record durably (this is what makes it safe to acknowledge), then schedule.

        Raises what the database raised if the batch could not be recorded: then it must not
        be acknowledged.
        """
        unknown = {u.update_id for u in updates if not known(u)}
        recorded = [(u.update_id, dump(u)) for u in updates]
        fresh = set(await self.inbox.record(recorded, skipped=unknown))
        for update in updates:
            kind = update_kind(update)
            if update.update_id not in fresh:
                self.metrics.updates.labels(kind, "duplicate").inc()
                log.info("update.duplicate", update_id=update.update_id)
                continue
            fresh.discard(update.update_id)  # a batch may repeat an update: schedule it once
            if update.update_id in unknown:
                self.metrics.updates.labels(kind, "skipped").inc()
                log.warning("update.skipped", update_id=update.update_id, reason="unknown type")
                continue
            self._schedule(update)

    async def accept_raw(self, payload: dict[str, Any]) -> None:
        await self.accept([self.parse(payload)])

    async def recover(self) -> int:
        """Handle what a previous run recorded but never finished (a crash mid-turn), oldest
        first, so each conversation keeps its order; returns how many were scheduled."""
        scheduled = 0
        async for update_id, payload in self.inbox.recover():
            try:
                update = self.parse(json.loads(payload))
            except ValueError as error:
                log.warning("update.given_up", update_id=update_id, reason="unreadable payload")
                await self.inbox.done(update_id, error=f"unreadable payload: {error}"[:500])
                continue
            if not known(update):  # recorded by a Magpie from before "skipped" existed
                log.warning("update.skipped", update_id=update_id, reason="unknown type")
                await self.inbox.done(update_id, skipped=True)
                continue
            log.info("update.recovered", update_id=update_id)
            self._schedule(update, redelivered=True)
            scheduled += 1
        log.info("inbox.recovered", recovered=scheduled)
        return scheduled

    def _schedule(self, update: Update, *, redelivered: bool = False) -> None:
        """Queue an update for handling; never fails, since it is already recorded."""
        try:
            lane, urgent = conversation_of(update), is_urgent(update, self.username)
        except Exception:
            log.exception("update.unroutable", update_id=update.update_id)
            lane, urgent = None, False
        self.queues.submit(
            lane, lambda: self.handle(update, redelivered=redelivered), urgent=urgent
        )

    async def handle(self, update: Update, *, redelivered: bool = False) -> None:
        """Dispatch one update through aiogram and mark how it ended.

        Handlers get `redelivered=True` for an update that may have been handled (but not
        marked done) before: recovered after a restart, or tried again after an outage.
        """
        kind = update_kind(update)
        with structlog.contextvars.bound_contextvars(**log_context(update), kind=kind):
            await self.inbox.started(update.update_id, durable=redelivered)
            try:
                error = await self._dispatch(update, redelivered=redelivered)
            except asyncio.CancelledError:  # Magpie is stopping; the next start redoes it
                self.inbox.interrupted(update.update_id)
                raise
            if error is not None:
                log.warning("update.failed", error=error)
                await self.inbox.done(update.update_id, error=error)
                self.metrics.updates.labels(kind, "failed").inc()
                return
        await self.inbox.done(update.update_id)
        self.metrics.updates.labels(kind, "handled").inc()

    async def _dispatch(self, update: Update, *, redelivered: bool) -> str | None:
        """Feed the update to aiogram, waiting out a database outage; returns the error."""
        pauses = outage_pauses(self.outage_retry, cap=OUTAGE_PAUSE_CAP)
        while True:
            pause = next(pauses, None)
            try:
                await self.dispatcher.feed_update(
                    self.bot, update, redelivered=redelivered, retry_on_outage=pause is not None
                )
            except Exception as error:
                if pause is None or not database_unavailable(error):
                    return f"{type(error).__name__}: {error}"[:2000]
                log.warning("update.waiting_for_database", error=str(error)[:500], pause=pause)
                await self.sleep(pause)
                redelivered = True
            else:
                return None
