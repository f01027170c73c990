"""Suite-wide switches: which services and tools a run requires."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.databases"]  # database_url / migrated_db: SQLite and PostgreSQL


def required(flag: str) -> bool:
    """CI sets MAGPIE_REQUIRE_* so missing services fail the run instead of skipping."""
    return os.environ.get(flag, "") not in ("", "0", "false")


def missing(what: str, flag: str) -> None:
    """Skip with a clear reason on a laptop; fail in CI."""
    message = f"{what} is not available"
    if required(flag):
        pytest.fail(f"{message}, and {flag} says it is required here")
    pytest.skip(f"{message} (set {flag}=1 to make this a failure)")
