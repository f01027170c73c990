"""Which errors mean "the database is away" (wait it out) rather than "this is broken"."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

DATABASE_ERRORS = (SQLAlchemyError, OSError)  # what a write can fail with, from the driver up
_SQLITE_AWAY = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CANTOPEN,
}
# PostgreSQL: class 08 (connection exception), shutting down or starting up, too many clients
_POSTGRES_AWAY = {"57P01", "57P02", "57P03", "53300"}


def database_unavailable(error: BaseException) -> bool:
    """A refused or lost connection, a full pool, a locked SQLite file, anywhere in the chain.

    asyncpg raises a plain ConnectionRefusedError when PostgreSQL is down; a connection lost
    mid-query comes back as a DBAPIError marked `connection_invalidated`. "No such table" or a
    constraint violation is a bug or bad data, not an outage: waiting would not help.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError | PoolTimeout):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sqlite3.Error) and current.sqlite_errorcode & 0xFF in _SQLITE_AWAY:
            return True
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and (state.startswith("08") or state in _POSTGRES_AWAY):
            return True
        current = current.__cause__ or current.__context__
    return False
