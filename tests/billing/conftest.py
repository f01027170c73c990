"""Billing on a real database: the ledger, its services, and a clock held still."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from magpie.billing.stars import RefundRefused, StarTransaction
from magpie.storage.database import Database


class Injected(Exception):
    """A database error made on purpose, in the middle of a transaction."""


@contextlib.contextmanager
def failing_midway(db: Database, table: str = "ledger_lines") -> Iterator[None]:
    """The next INSERT into `table` fails, after the transaction's earlier statements ran."""

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            raise Injected(f"injected failure writing {table}")

    event.listen(db.engine.sync_engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", fail)


@dataclass
class Now:
    """A clock tests move by hand."""

    at: datetime = field(default_factory=lambda: datetime(2026, 12, 2, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class FakeTelegramStars:
    """The StarsApi port as Telegram answers it: refunds agreed unless told to refuse."""

    refuse: str | None = None
    refunded: list[str] = field(default_factory=list)
    listed: list[StarTransaction] = field(default_factory=list)

    async def refund(self, *, user_id: int, charge_id: str) -> None:
        if self.refuse:
            raise RefundRefused(self.refuse)
        self.refunded.append(charge_id)

    async def transactions(self, *, offset: int, limit: int) -> list[StarTransaction]:
        return self.listed[offset : offset + limit]
