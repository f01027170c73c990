"""Configuration: the documented variables work, and a bad value stops start-up in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from magpie.config import ConfigError, load_settings
from tests.databases import postgres_server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.split("_")[0] in {"TELEGRAM", "WEBHOOK", "LLM", "OPENAI", "ANTHROPIC", "GEMINI"}:
            monkeypatch.delenv(name)


def test_defaults_need_nothing() -> None:
    settings = load_settings(env_file=None)
    assert settings.llm_model == "offline"
    assert settings.sqlalchemy_url == "sqlite+aiosqlite:///data/magpie.db"
    assert not settings.use_webhook


def test_the_example_env_file_is_valid_as_shipped() -> None:
    settings = load_settings(env_file=str(ROOT / ".env.example"))
    assert settings.telegram_bot_token is None  # `NAME=` means not set
    assert settings.bot_aliases == ["magpie"]


def test_documented_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("DATABASE_URL", "postgresql://magpie@db:5432/magpie")
    monkeypatch.setenv("LLM_MODEL", "openai:gpt-4o-mini")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("GOOGLE_API_KEY", "g-key")
    monkeypatch.setenv("BOT_ADMINS", "1, 22;333")
    settings = load_settings(env_file=None)
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.sqlalchemy_url == "postgresql+asyncpg://magpie@db:5432/magpie"
    assert settings.openai_base_url == "http://localhost:11434/v1"
    assert settings.gemini_api_key is not None
    assert settings.bot_admins == [1, 22, 333]


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("TELEGRAM_API_URL", "ftp://x", "TELEGRAM_API_URL='ftp://x' is invalid: expected an http"),
        ("LLM_MODEL", "gpt4", "LLM_MODEL='gpt4' is invalid: expected provider:model"),
        ("CONTEXT_TOKENS", "10", "CONTEXT_TOKENS='10' is invalid: Input should be greater"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD' is invalid: Input should be"),
    ],
)
def test_a_bad_value_names_the_variable_value_and_expectation(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, line: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings(env_file=None)
    assert str(raised.value).startswith(line)
    assert "\n" not in str(raised.value)


def test_secrets_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", "has spaces and is secret")
    with pytest.raises(ConfigError) as raised:
        load_settings(env_file=None)
    assert str(raised.value).startswith("WEBHOOK_SECRET=*** is invalid")
    assert "has spaces" not in str(raised.value)
    settings = load_settings(env_file=None, webhook_secret="fine_secret")
    assert "fine_secret" not in repr(settings)


def magpie_run(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`magpie run` in an empty directory with only these variables (and PATH, HOME) set."""
    return magpie(tmp_path, "run", **variables)


def magpie(tmp_path: Path, *command: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """`magpie <command>` in an empty directory with only these variables (and PATH, HOME) set."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **variables}
    return subprocess.run(  # noqa: S603 (this interpreter, our own module)
        [sys.executable, "-m", "magpie.cli", *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def test_magpie_run_refuses_a_bad_setting_with_one_clear_line(tmp_path: Path) -> None:
    done = magpie_run(tmp_path, TELEGRAM_API_URL="nonsense")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "magpie: TELEGRAM_API_URL='nonsense' is invalid: expected an http:// or https:// URL"
    ]


def test_magpie_run_without_a_token_says_so(tmp_path: Path) -> None:
    done = magpie_run(tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("magpie: TELEGRAM_BOT_TOKEN is not set")


def test_a_missing_key_for_the_chosen_model_is_one_line() -> None:
    from magpie.llm.models import build_model, parse_spec

    settings = load_settings(env_file=None, llm_model="anthropic:claude-3-5-haiku-latest")
    with pytest.raises(ConfigError, match=r"^LLM_MODEL='anthropic:claude-3-5-haiku-latest' needs"):
        build_model(parse_spec(settings.llm_model), settings)


def test_an_unreachable_bot_api_server_is_one_line(tmp_path: Path) -> None:
    done = magpie_run(  # nothing listens on the discard port
        tmp_path, TELEGRAM_BOT_TOKEN="123:abc", TELEGRAM_API_URL="http://127.0.0.1:9"
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("magpie: TELEGRAM_API_URL='http://127.0.0.1:9' cannot be reached")
    )


@pytest.mark.parametrize("command", ["run", "migrate"])
@pytest.mark.parametrize(
    ("url", "line"),
    [
        ("notaurl", "magpie: DATABASE_URL='notaurl' is invalid: expected postgresql://"),
        ("mysql://u:p@h/db", "magpie: DATABASE_URL='mysql://u:***@h/db' is invalid: expected"),
        (
            "postgresql://u:secret@127.0.0.1:1/db",  # nothing listens on port 1
            "magpie: DATABASE_URL='postgresql://u:***@127.0.0.1:1/db' cannot be reached: ",
        ),
    ],
)
def test_a_bad_database_url_stops_start_up_with_one_masked_line(
    tmp_path: Path, command: str, url: str, line: str
) -> None:
    done = magpie(tmp_path, command, TELEGRAM_BOT_TOKEN="123:abc", DATABASE_URL=url)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(line)
    assert ":p@" not in done.stderr and "secret" not in done.stderr


@pytest.mark.parametrize("command", ["run", "migrate"])
def test_a_database_that_refuses_the_login_is_one_line(tmp_path: Path, command: str) -> None:
    server = postgres_server()  # skips on a laptop without one, fails in CI
    host = f"{server.host}:{server.port or 5432}"
    url = f"postgresql://nobody_here:secret@{host}/magpie"
    done = magpie(tmp_path, command, TELEGRAM_BOT_TOKEN="123:abc", DATABASE_URL=url)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"magpie: DATABASE_URL='postgresql://nobody_here:***@{host}/magpie' cannot be opened: "
        'role "nobody_here" does not exist'
    ]


def test_an_sqlite_file_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the data directory should be")
    done = magpie(tmp_path, "migrate", DATA_DIR=str(tmp_path / "taken"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"magpie: DATA_DIR={str(tmp_path / 'taken')!r} cannot be opened: "
        f"[Errno 17] File exists: {str(tmp_path / 'taken')!r}"
    ]


def test_credentials_in_the_bot_api_url_are_masked(tmp_path: Path) -> None:
    invalid = magpie_run(tmp_path, TELEGRAM_API_URL="ftp://ann:hunter2@example.org")
    assert invalid.stderr.strip().splitlines() == [
        "magpie: TELEGRAM_API_URL='ftp://ann:***@example.org' is invalid: "
        "expected an http:// or https:// URL"
    ]
    unreachable = magpie_run(
        tmp_path, TELEGRAM_BOT_TOKEN="123:abc", TELEGRAM_API_URL="http://ann:hunter2@127.0.0.1:9"
    )
    assert unreachable.returncode == 2
    assert (
        unreachable.stderr.strip()
        .splitlines()[-1]
        .startswith("magpie: TELEGRAM_API_URL='http://ann:***@127.0.0.1:9' cannot be reached")
    )
    assert "hunter2" not in unreachable.stderr + unreachable.stdout


USERS = st.text(st.characters(exclude_characters=":/@'\"", exclude_categories=("Z", "C")))
PASSWORDS = st.text(
    st.characters(exclude_characters="'\"", exclude_categories=("Z", "C")), min_size=1
)
HOSTS = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}(:[0-9]{1,5})?", fullmatch=True)


@given(user=USERS, password=PASSWORDS, host=HOSTS)
def test_a_password_in_any_url_is_masked_in_a_config_error(
    user: str, password: str, host: str
) -> None:
    url = f"postgresql://{user}:{password}@{host}/magpie"
    error = ConfigError(f"DATABASE_URL={url!r} cannot be reached: refused")
    masked = f"postgresql://{user}:***@{host}/magpie"
    assert str(error) == f"DATABASE_URL={masked!r} cannot be reached: refused"


@pytest.mark.parametrize(
    "text",
    [
        "TELEGRAM_API_URL='http://127.0.0.1:9' cannot be reached",
        "DATABASE_URL='postgresql://magpie@db:5432/magpie' cannot be reached",
        "MCP_SERVERS is invalid: servers[0]: url: String should match pattern '^https?://'",
    ],
)
def test_messages_without_a_password_are_left_alone(text: str) -> None:
    assert str(ConfigError(text)) == text
