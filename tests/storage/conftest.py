"""Storage tests run on SQLite and PostgreSQL: fresh databases come from tests/databases.py."""

from __future__ import annotations

from tests.databases import database_url, migrated_db  # noqa: F401
