"""Apply, inspect and undo Alembic migrations from code (`magpie migrate`, start-up, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def pending(engine: AsyncEngine) -> list[str]:
    """Revisions not yet applied, oldest first."""

    def missing(sync: Connection) -> list[str]:
        current = set(MigrationContext.configure(sync).get_current_heads())
        script = ScriptDirectory.from_config(alembic_config())
        revisions = [rev.revision for rev in script.walk_revisions() if rev.revision not in current]
        if current:
            applied = set()
            for head in current:
                applied |= {r.revision for r in script.iterate_revisions(head, "base")}
            revisions = [r for r in revisions if r not in applied]
        return list(reversed(revisions))

    async with engine.connect() as connection:
        return await connection.run_sync(missing)


async def autogenerate(engine: AsyncEngine, message: str) -> None:
    """Write a new revision from the difference between tables.py and the database."""
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.revision(alembic_config(sync), message=message, autogenerate=True)
        )
