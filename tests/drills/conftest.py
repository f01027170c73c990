"""A drill per test: a fresh sandbox with Magpie's bot, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.drills.harness import BOT_USERNAME, TOKEN, Drill, Launcher, new_sandbox


@pytest.fixture(scope="session")
def launcher() -> Iterator[Launcher]:
    """One launcher for the session: Magpie is imported once, each run is a fork of it."""
    starter = Launcher()
    try:
        yield starter
    finally:
        starter.close()


@pytest.fixture
async def drill(database_url: str, tmp_path: Path, launcher: Launcher) -> AsyncIterator[Drill]:
    """The sandbox with Magpie's bot account; Magpie itself is started by the drill."""
    async with new_sandbox() as sandbox:
        account = sandbox.add_bot(token=TOKEN, username=BOT_USERNAME)
        backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
        running = Drill(sandbox, account, backend, database_url, database_url, tmp_path, launcher)
        try:
            yield running
        finally:
            await running.close()
