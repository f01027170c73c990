"""Real database failures, told apart: "away, wait for it" versus "broken, waiting won't help"."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from magpie.storage.database import Database, create_engine
from magpie.storage.migrate import upgrade
from magpie.storage.outages import database_unavailable
from tests.databases import fresh_database_url
from tests.outages import proxied


async def failure(db: Database, *statements: str) -> Exception:
    """What the database raised for these statements in one write (they must fail)."""
    try:
        async with db.write() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    except Exception as error:
        return error
    raise AssertionError(f"{statements} did not fail")


async def test_a_missing_table_is_not_an_outage(migrated_db: Database) -> None:
    assert not database_unavailable(await failure(migrated_db, "SELECT * FROM nowhere"))


async def test_a_violated_constraint_is_not_an_outage(migrated_db: Database) -> None:
    insert = "INSERT INTO inbox (update_id, payload, status, attempts) VALUES (1, '{}', 'x', 0)"
    async with migrated_db.write() as connection:
        await connection.execute(text(insert))
    assert not database_unavailable(await failure(migrated_db, insert))


@pytest.mark.postgres
async def test_postgres_refusing_or_dropping_connections_is_an_outage(tmp_path: Path) -> None:
    async with (
        fresh_database_url("postgres", tmp_path) as url,
        proxied(url) as (through_proxy, proxy),
    ):
        db = Database(create_engine(through_proxy))
        try:
            async with db.read() as connection:
                await connection.execute(text("SELECT 1"))
                await proxy.cut()  # mid-session: the open connection dies
                try:
                    await connection.execute(text("SELECT 1"))
                except Exception as error:
                    lost = error
            assert database_unavailable(lost)
            assert database_unavailable(await failure(db, "SELECT 1"))  # refused
        finally:
            await db.close()


async def test_a_locked_sqlite_file_is_an_outage(tmp_path: Path) -> None:
    async with fresh_database_url("sqlite", tmp_path) as url:
        engine = create_engine(url)
        await upgrade(engine)
        db = Database(engine)
        holder = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
            locked = await failure(db, "PRAGMA busy_timeout=0", "DELETE FROM inbox")
            assert database_unavailable(locked)
        finally:
            holder.close()
            await db.close()
