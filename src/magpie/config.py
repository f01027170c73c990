"""Settings from the environment (and .env): one object, built once, never global."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_PERSONA = (
    "You are Magpie, a helpful assistant in Telegram. Answer concisely and in the language "
    "of the person who wrote to you. Use Markdown sparingly."
)


class ConfigError(Exception):
    """An invalid setting; the message is one line naming the variable, value and expectation.

    Any `scheme://user:password@` in the message is shown with the password as `***`, wherever
    the message was written: a database or Bot API URL may carry credentials.
    """

    def __init__(self, message: str) -> None:
        super().__init__(mask_passwords(message))


# scheme://user: then everything up to the last "@" of the token (a password may hold "@" or "/")
_URL_PASSWORD = re.compile(r"(?P<kept>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)[^\s'\"]*@")


def mask_passwords(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***."""
    return _URL_PASSWORD.sub(r"\g<kept>***@", text)


DATABASE_EXPECTED = "expected postgresql://user:password@host:5432/database or sqlite:///path.db"
DATABASE_DRIVERS = frozenset({"postgresql+asyncpg", "sqlite+aiosqlite"})


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything Magpie reads from its environment; see .env.example for each variable."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0:8080"

    data_dir: Path = Path("data")
    database_url: str | None = None  # postgresql:// or sqlite:///; default: SQLite in data_dir
    auto_migrate: bool = True
    redis_url: str | None = None

    llm_model: str = "offline"
    offline_words_per_second: float = Field(default=40.0, ge=0)  # 0: the whole answer at once
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    gemini_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY")
    )
    gemini_base_url: str | None = None
    llm_timeout_seconds: float = Field(default=60.0, gt=0)
    llm_first_token_seconds: float = Field(default=20.0, gt=0)
    llm_connect_seconds: float = Field(default=10.0, gt=0)
    llm_fallback_models: Annotated[list[str], NoDecode] = []
    llm_retries: int = Field(default=2, ge=0, le=10)
    llm_breaker_failures: int = Field(default=5, ge=1)
    llm_breaker_reset_seconds: float = Field(default=60.0, gt=0)

    turn_max_tool_steps: int = Field(default=8, ge=1, le=50)
    turn_timeout_seconds: float = Field(default=180.0, gt=0)
    turn_max_tokens: int = Field(default=60_000, ge=1000)
    tool_confirm_seconds: float = Field(default=600.0, gt=0)
    shutdown_grace_seconds: float = Field(default=8.0, ge=0)
    mcp_servers: str = "[]"  # JSON list; see docs/tools.md
    searxng_url: str | None = None
    open_meteo_url: str = "https://api.open-meteo.com/v1/forecast"
    open_meteo_geocoding_url: str = "https://geocoding-api.open-meteo.com/v1/search"
    web_allow_private_networks: Annotated[list[str], NoDecode] = []

    # what Magpie sends to Telegram (limits/outgoing.py); 0: no limit of that kind
    send_per_chat_per_second: float = Field(default=1.0, ge=0)
    send_chat_burst: float = Field(default=3.0, ge=1)
    send_per_group_per_minute: float = Field(default=20.0, ge=0)
    send_group_burst: float = Field(default=5.0, ge=1)
    send_per_second: float = Field(default=30.0, ge=0)
    send_burst: float = Field(default=10.0, ge=1)

    # what one person may ask of Magpie (limits/users.py); 0: no limit of that kind
    user_messages_per_minute: int = Field(default=10, ge=0)
    user_messages_per_day: int = Field(default=300, ge=0)
    user_tokens_per_minute: int = Field(default=100_000, ge=0)
    user_tokens_per_day: int = Field(default=1_000_000, ge=0)

    bot_admins: Annotated[list[int], NoDecode] = []
    bot_aliases: Annotated[list[str], NoDecode] = ["magpie"]
    persona: str = DEFAULT_PERSONA
    context_tokens: int = Field(default=6000, ge=200)

    billing_prices: str = "{}"  # JSON: {"model": {"input", "cached_input", "output", "tool_call"}}
    billing_free_daily: int = Field(default=2000, ge=0)  # credits (1,000 to a Star) per day
    billing_user_daily_cap: int = Field(default=0, ge=0)  # credits; 0: no cap
    billing_group_daily_cap: int = Field(default=0, ge=0)
    billing_packages: Annotated[list[int], NoDecode] = [50, 100, 250, 500]  # Stars
    billing_refund_days: int = Field(default=21, ge=0)
    billing_expected_output_tokens: int = Field(default=800, ge=0)  # for a turn's hold

    metrics_listen: str | None = None  # host:port for /metrics and /healthz (polling mode)
    gc_tuning: bool = True  # `magpie run` tunes the garbage collector for serving (collector.py)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    @field_validator(
        "telegram_bot_token",
        "webhook_url",
        "webhook_secret",
        "database_url",
        "redis_url",
        "openai_api_key",
        "openai_base_url",
        "anthropic_api_key",
        "anthropic_base_url",
        "gemini_api_key",
        "gemini_base_url",
        "metrics_listen",
        "searxng_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """`NAME=` in a .env file means "not set", as it reads."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "bot_admins",
        "bot_aliases",
        "billing_packages",
        "llm_fallback_models",
        "web_allow_private_networks",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator(
        "telegram_api_url",
        "webhook_url",
        "openai_base_url",
        "anthropic_base_url",
        "gemini_base_url",
        "searxng_url",
        "open_meteo_url",
        "open_meteo_geocoding_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None if value == "" else value
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str | None) -> str | None:
        """A URL SQLAlchemy can parse, for a database Magpie has a driver for."""
        if value is None:
            return None
        from sqlalchemy.engine import make_url  # here: only when DATABASE_URL is set
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(_async_driver(value))
        except (ArgumentError, ValueError):
            raise ValueError(DATABASE_EXPECTED) from None
        if url.drivername not in DATABASE_DRIVERS:
            raise ValueError(f"{DATABASE_EXPECTED} ({url.drivername} is not supported)")
        return value

    @field_validator("llm_model")
    @classmethod
    def _provider_model(cls, value: str) -> str:
        if value != "offline" and ":" not in value:
            raise ValueError("expected provider:model, e.g. openai:gpt-4o-mini, or offline")
        return value

    @field_validator("llm_fallback_models")
    @classmethod
    def _provider_models(cls, value: list[str]) -> list[str]:
        for item in value:
            cls._provider_model(item)
        return value

    @field_validator("web_allow_private_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"expected CIDR networks such as 10.0.0.0/8, got {item!r}"
                ) from None
        return value

    @field_validator("billing_prices")
    @classmethod
    def _prices(cls, value: str) -> str:
        from magpie.billing.prices import parse_prices

        parse_prices(value)
        return value

    @field_validator("billing_packages")
    @classmethod
    def _packages(cls, value: list[int]) -> list[int]:
        if not value or any(not 1 <= stars <= 100_000 for stars in value):
            raise ValueError("expected Stars amounts from 1 to 100000, e.g. 50,100,250")
        return sorted(set(value))

    @field_validator("webhook_secret")
    @classmethod
    def _secret_chars(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if not 1 <= len(secret) <= 256 or not all(c.isalnum() or c in "_-" for c in secret):
            raise ValueError("expected 1-256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL, or an SQLite file in the data directory."""
        if self.database_url:
            return _async_driver(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'magpie.db').as_posix()}"

    @property
    def database_setting(self) -> str:
        """The setting that chose the database, as an error message names it."""
        if self.database_url:
            return f"DATABASE_URL={self.database_url!r}"
        return f"DATA_DIR={str(self.data_dir)!r}"

    @property
    def use_webhook(self) -> bool:
        return bool(self.webhook_url)


def _async_driver(url: str) -> str:
    """Accept the usual spellings and pick the async driver for each database."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url.removeprefix(plain)
    return url


SECRET_FIELDS = frozenset(
    name for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)
)


def load_settings(*, env_file: str | None = ".env", **overrides: Any) -> Settings:
    """Build settings from the environment, turning the first problem into one clear line."""
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as error:
        raise ConfigError(_one_line(error)) from None


def _one_line(error: ValidationError) -> str:
    problem = error.errors()[0]
    field = str(problem["loc"][0]) if problem["loc"] else "?"
    variable = field.upper()
    value = problem.get("input")
    shown = "***" if field in SECRET_FIELDS else repr(value)
    message = str(problem["msg"]).removeprefix("Value error, ")
    return f"{variable}={shown} is invalid: {message}"
