"""`magpie billing …` as an operator uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from magpie.cli import main


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BILLING_FREE_DAILY", "2000")


async def magpie(*argv: str) -> int:
    """The command, run as from a shell (its own event loop, in a thread)."""
    return await asyncio.to_thread(main, list(argv))


@pytest.mark.usefixtures("env")
async def test_grant_then_balance_and_ledger_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert await magpie("migrate") == 0
    assert await magpie("billing", "grant", "--user", "42", "--amount", "10", "--reason", "hi") == 0
    assert (
        await magpie("billing", "grant", "--user", "42", "--amount", "-0.5", "--reason", "oops")
        == 0
    )
    assert "balance ⭐ 9.5." in capsys.readouterr().out
    assert await magpie("billing", "balance", "--user", "42", "--json") == 0
    balance = json.loads(capsys.readouterr().out)
    assert balance == {
        "user_id": 42,
        "balance": 9500,
        "balance_stars": "9.5",
        "free_left_today": 2000,
    }
    assert await magpie("billing", "ledger", "--user", "42", "--json") == 0
    entries = json.loads(capsys.readouterr().out)
    assert [(e["kind"], e["amount"], e["memo"]) for e in entries] == [
        ("grant", -500, "oops"),
        ("grant", 10_000, "hi"),
    ]  # newest first
    assert entries[0]["posting_id"] > entries[1]["posting_id"]
    assert await magpie("billing", "ledger", "--user", "7") == 0
    assert capsys.readouterr().out.strip() == "no entries"


@pytest.mark.usefixtures("env")
async def test_bad_amounts_and_an_unmigrated_database_get_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        await magpie("billing", "grant", "--user", "1", "--amount", "0.0001", "--reason", "x")
    assert "at most 3 decimals" in capsys.readouterr().err
    assert await magpie("billing", "balance", "--user", "1") == 2
    assert "run `magpie migrate`" in capsys.readouterr().err
