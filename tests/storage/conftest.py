"""Storage tests run on SQLite and PostgreSQL: fresh databases come from tests/databases.py."""
