"""From raw update to handled: record in the inbox, then dispatch once, in per-chat order."""

from __future__ import annotations

import json
from typing import Any

import structlog
from aiogram import Bot, Dispatcher
from aiogram.types import Update

from magpie.ingress.ordering import ChatQueues, conversation_of, is_urgent
from magpie.observability.metrics import Metrics
from magpie.storage.inbox import Inbox

log = structlog.get_logger(__name__)


def update_kind(update: Update) -> str:
    return update.event_type or "unknown"


def dump(update: Update) -> str:
    return update.model_dump_json(exclude_none=True, by_alias=True)


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
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.inbox = inbox
        self.metrics = metrics
        self.username = username
        self.queues = queues or ChatQueues()

    async def accept(self, updates: list[Update]) -> None:
        """Record durably (this is what makes it safe to acknowledge), then schedule."""
        fresh = set(await self.inbox.record([(u.update_id, dump(u)) for u in updates]))
        for update in updates:
            if update.update_id not in fresh:
                self.metrics.updates.labels(update_kind(update), "duplicate").inc()
                log.info("update.duplicate", update_id=update.update_id)
                continue
            fresh.discard(update.update_id)  # a batch may repeat an update: schedule it once
            self._schedule(update)

    async def accept_raw(self, payload: dict[str, Any]) -> None:
        update = Update.model_validate(payload, context={"bot": self.bot})
        await self.accept([update])

    async def recover(self) -> int:
        """Handle what a previous run recorded but never finished (a crash mid-turn)."""
        pending = await self.inbox.recover()
        for update_id, payload in pending:
            try:
                update = Update.model_validate(json.loads(payload), context={"bot": self.bot})
            except ValueError:
                await self.inbox.done(update_id, error="unreadable payload")
                continue
            log.info("update.recovered", update_id=update_id)
            self._schedule(update, redelivered=True)
        return len(pending)

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
        """Dispatch one update through aiogram; failures are logged and marked.

        Handlers get `redelivered=True` for an update recovered after a restart, which may have
        been handled (but not marked done) before.
        """
        kind = update_kind(update)
        with structlog.contextvars.bound_contextvars(update_id=update.update_id, kind=kind):
            try:
                await self.dispatcher.feed_update(self.bot, update, redelivered=redelivered)
            except Exception as error:  # the errors router already answered the user
                log.exception("update.failed")
                await self.inbox.done(update.update_id, error=f"{type(error).__name__}: {error}")
                self.metrics.updates.labels(kind, "failed").inc()
                return
        await self.inbox.done(update.update_id)
        self.metrics.updates.labels(kind, "handled").inc()
