"""Fresh, empty databases for tests, on SQLite and on PostgreSQL.

Every test that takes `database_url` runs twice, with ids `sqlite` and `postgres`, and gets the
URL of a database nobody else uses: an SQLite file in its `tmp_path`, or a PostgreSQL database
`magpie_t_<hex>` created on the server named by MAGPIE_TEST_POSTGRES_URL and dropped afterwards.
`migrated_db` is the same database upgraded to head, as an open `magpie.storage.Database`.

Without MAGPIE_TEST_POSTGRES_URL, or with the server unreachable, the `postgres` runs skip on a
laptop and fail when MAGPIE_REQUIRE_SERVICES is set (CI).

Reuse from another test package by importing the fixtures into its conftest.py (pytest only
honours `pytest_plugins` in the top-level conftest):

    from tests.databases import database_url, migrated_db  # noqa: F401

Fixtures with their own parametrization can use `BACKENDS`, `fresh_database_url` and
`migrated_database` directly.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import URL, make_url

from magpie.storage.database import Database, create_engine
from magpie.storage.migrate import upgrade
from tests.conftest import missing

POSTGRES_URL = "MAGPIE_TEST_POSTGRES_URL"
REQUIRE_SERVICES = "MAGPIE_REQUIRE_SERVICES"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def postgres_server() -> URL:
    """The configured PostgreSQL server; skips (or fails in CI) when it is not there."""
    url = os.environ.get(POSTGRES_URL, "")
    if not url or not _reachable(url):
        missing("PostgreSQL", REQUIRE_SERVICES)
    return make_url(url)


@functools.cache
def _reachable(url: str) -> bool:
    """Probe the port once per run, so a laptop without PostgreSQL skips quickly."""
    server = make_url(url)
    try:
        with socket.create_connection((server.host or "localhost", server.port or 5432), 2):
            return True
    except OSError:
        return False


def _asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def fresh_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of a new, empty database of `backend` ("sqlite" or "postgres"), removed after."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'magpie.sqlite3'}"
        return
    if backend != "postgres":
        raise ValueError(f"unknown database backend {backend!r}")
    server = postgres_server()
    name = f"magpie_t_{uuid.uuid4().hex}"
    admin = await asyncpg.connect(_asyncpg_dsn(server.set(database="postgres")), timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def migrated_database(url: str) -> AsyncIterator[Database]:
    """The database at `url` upgraded to head, closed after."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        db = Database(engine)
        yield db
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database per test, once on SQLite and once on PostgreSQL."""
    async with fresh_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def migrated_db(database_url: str) -> AsyncIterator[Database]:
    """A fresh database at the newest schema."""
    async with migrated_database(database_url) as db:
        yield db
