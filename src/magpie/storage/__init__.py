"""Persistence: engine, tables, repositories and Alembic migrations."""
