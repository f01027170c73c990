"""The database handle: an async engine plus short read and write transactions.

SQLite runs in WAL mode with a busy timeout, and writes go through one asyncio lock (SQLite has
one writer; waiting in Python beats failing with "database is locked"). PostgreSQL needs neither.
Transactions are short on purpose: a turn waits seconds for a model and must not hold a
connection or a lock meanwhile.

Repositories speak SQLAlchemy Core on a connection (no ORM session, no identity map): a turn is
a handful of statements, and each ORM session or extra round trip costs more than the statement.
Every connection goes back to the pool through `read()` or `write()`, which end its
transaction, so the pool's own reset-on-return (one more ROLLBACK per checkout) is switched off.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from magpie.config import ConfigError

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _private_file(database: str) -> None:
    """The SQLite file (and the WAL and shared-memory files SQLite gives its permissions) is
    readable by its owner only; a directory made for it, likewise."""
    path = Path(database)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
        path.chmod(0o600)  # whatever the umask


def create_engine(url: str, *, pooled: bool = True) -> AsyncEngine:
    """An engine tuned for its database; a new SQLite file is created private (0600)."""
    options: dict[str, Any] = {"pool_reset_on_return": None} if pooled else {"poolclass": NullPool}
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_file(database)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if pooled:
        options |= {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
    return create_async_engine(url, **options)


@contextlib.asynccontextmanager
async def start_up_engine(url: str, *, setting: str) -> AsyncIterator[AsyncEngine]:
    """An unpooled engine that has connected once, for migrations at start and `magpie migrate`.

    A database that cannot be reached or opened stops start-up with one line naming `setting`
    (e.g. "DATABASE_URL='postgresql://u:***@db/magpie'") and why, instead of a traceback.
    """
    try:
        engine = create_engine(url, pooled=False)
    except OSError as error:  # the SQLite file's directory cannot be created
        raise ConfigError(f"{setting} cannot be opened: {error}") from None
    try:
        try:
            async with engine.connect():
                pass
        except OSError as error:  # refused, unknown host, timed out
            raise ConfigError(f"{setting} cannot be reached: {_reason(error)}") from None
        except DBAPIError as error:  # the server said no: unknown role, password, database
            raise ConfigError(
                f"{setting} cannot be opened: {_reason(error.orig or error)}"
            ) from None
        yield engine
    finally:
        await engine.dispose()


def _reason(error: BaseException) -> str:
    text = (error.strerror if isinstance(error, OSError) else None) or str(error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


class Database:
    """Where repositories get their connections: `read()` and `write()` transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as connection:
            yield connection

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One transaction, committed on success and rolled back on error."""
        async with contextlib.AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            yield await stack.enter_async_context(self.engine.begin())

    def insert(self, table: Table | type[object]) -> PgInsert | SqliteInsert:
        """INSERT with this database's ON CONFLICT clauses."""
        return (sqlite_insert if self.is_sqlite else pg_insert)(table)

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()
