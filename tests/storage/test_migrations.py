"""Migrations build the schema tables.py describes, undo it cleanly, and form one line."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from magpie.storage.database import create_engine
from magpie.storage.migrate import alembic_config, downgrade, pending, upgrade
from magpie.storage.tables import Base

TABLES = {
    "group_pools",
    "ledger_lines",
    "ledger_postings",
    "star_payments",
    "approvals",
    "chat_settings",
    "chats",
    "conversations",
    "inbox",
    "messages",
    "notes",
    "tool_calls",
    "topics",
    "turns",
    "users",
}


def all_revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names) - {"alembic_version"}


async def differences(engine: AsyncEngine) -> list[Any]:
    def compare(sync: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(sync), Base.metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(compare)


async def test_upgrade_downgrade_and_upgrade_again_round_trips(database_url: str) -> None:
    engine = create_engine(database_url, pooled=False)
    try:
        await upgrade(engine)
        assert await table_names(engine) == TABLES

        await downgrade(engine)
        assert await table_names(engine) == set()
        assert await pending(engine) == all_revisions()

        await upgrade(engine)
        assert await table_names(engine) == TABLES
        assert await pending(engine) == []
    finally:
        await engine.dispose()


async def test_a_new_database_has_every_revision_pending_until_upgraded(database_url: str) -> None:
    engine = create_engine(database_url, pooled=False)
    try:
        assert await pending(engine) == all_revisions()
        await upgrade(engine)
        assert await pending(engine) == []
    finally:
        await engine.dispose()


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url, pooled=False)
    try:
        await upgrade(engine)
        assert await differences(engine) == []
    finally:
        await engine.dispose()


def test_revisions_form_one_line_with_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(script.walk_revisions())  # newest first

    assert script.get_heads() == [revisions[0].revision]
    assert script.get_bases() == [revisions[-1].revision]
    for newer, older in itertools.pairwise(revisions):
        assert newer.down_revision == older.revision
    assert all(not isinstance(rev.down_revision, tuple) for rev in revisions)


async def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """Regression: the database and its WAL were created world-readable (0644)."""
    database = tmp_path / "data" / "magpie.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{database}", pooled=False)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    created = [database, *database.parent.glob("magpie.sqlite3-*")]
    assert {p.stat().st_mode & 0o777 for p in created} == {0o600}
    assert database.parent.stat().st_mode & 0o777 == 0o700
