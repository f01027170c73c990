"""Start-up: migrations applied, or refused with one clear line."""

from __future__ import annotations

import pytest

from magpie.app import prepare_database
from magpie.config import ConfigError, load_settings
from magpie.storage.database import create_engine
from magpie.storage.migrate import pending
from tests.storage.test_migrations import all_revisions


async def test_pending_migrations_are_applied_on_start(database_url: str) -> None:
    settings = load_settings(env_file=None, database_url=database_url)
    await prepare_database(settings)
    engine = create_engine(settings.sqlalchemy_url, pooled=False)
    try:
        assert await pending(engine) == []
    finally:
        await engine.dispose()


async def test_with_auto_migrate_off_start_is_refused_with_one_line(database_url: str) -> None:
    settings = load_settings(env_file=None, database_url=database_url, auto_migrate=False)
    with pytest.raises(ConfigError) as refused:
        await prepare_database(settings)
    revisions = all_revisions()
    expected = f"the database needs {len(revisions)} migration(s) ({', '.join(revisions)})"
    assert str(refused.value).startswith(expected)
    assert "run `magpie migrate`" in str(refused.value)
