"""The database going away under Magpie and coming back, on PostgreSQL and on SQLite.

PostgreSQL: Magpie connects through a TCP proxy (tcp_proxy.py) that refuses new connections
and resets open ones during the outage. SQLite: another connection holds the write lock
(BEGIN EXCLUSIVE) for longer than Magpie's busy timeout, so its writes fail with "database is
locked" (reads go on: WAL mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url

from tests.drills.harness import Drill
from tests.drills.tcp_proxy import TcpProxy


class Outage(Protocol):
    """A way to take the database away while a block runs."""

    description: str
    failed_records_needed: int  # `polling.record_failed` lines that show it lasted long enough

    def down(self) -> contextlib.AbstractAsyncContextManager[None]: ...


class ProxyOutage:
    description = "PostgreSQL behind a proxy that refuses connections and resets open ones"
    failed_records_needed = 2  # Magpie retries a batch every few seconds: two refusals at least

    def __init__(self, proxy: TcpProxy) -> None:
        self.proxy = proxy

    def down(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self.proxy.down()


class SqliteWriteLock:
    description = "SQLite with its write lock held by another connection (BEGIN EXCLUSIVE)"
    failed_records_needed = 2  # each refusal took the 5 s busy timeout: the lock outlasts two

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.asynccontextmanager
    async def down(self) -> AsyncIterator[None]:
        holder = await asyncio.to_thread(self._lock)
        try:
            yield
        finally:
            await asyncio.to_thread(self._unlock, holder)

    def _lock(self) -> sqlite3.Connection:
        holder = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN EXCLUSIVE")
        return holder

    @staticmethod
    def _unlock(holder: sqlite3.Connection) -> None:
        holder.execute("ROLLBACK")
        holder.close()


@contextlib.asynccontextmanager
async def outage_for(drill: Drill) -> AsyncIterator[Outage]:
    """The outage that fits the drill's database; on PostgreSQL Magpie is pointed at the proxy
    (so call this before starting Magpie)."""
    url = make_url(drill.check_url)
    if drill.backend == "sqlite":
        assert url.database is not None
        yield SqliteWriteLock(Path(url.database))
        return
    async with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        drill.database_url = proxied.render_as_string(hide_password=False)
        yield ProxyOutage(proxy)
