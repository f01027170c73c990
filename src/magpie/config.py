"""Settings from the environment (and .env): one object, built once, never global."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_PERSONA = (
    "You are Magpie, a helpful assistant in Telegram. Answer concisely and in the language "
    "of the person who wrote to you. Use Markdown sparingly."
)


class ConfigError(Exception):
    """An invalid setting; the message is one line naming the variable, value and expectation."""


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
    database_url: str | None = None
    auto_migrate: bool = True
    redis_url: str | None = None

    llm_model: str = "offline"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    gemini_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY")
    )
    gemini_base_url: str | None = None
    llm_timeout_seconds: float = Field(default=60.0, gt=0)

    bot_admins: Annotated[list[int], NoDecode] = []
    bot_aliases: Annotated[list[str], NoDecode] = ["magpie"]
    persona: str = DEFAULT_PERSONA
    context_tokens: int = Field(default=6000, ge=200)

    metrics_listen: str | None = None  # host:port for /metrics and /healthz (polling mode)

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
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """`NAME=` in a .env file means "not set", as it reads."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("bot_admins", "bot_aliases", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator(
        "telegram_api_url",
        "webhook_url",
        "openai_base_url",
        "anthropic_base_url",
        "gemini_base_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None if value == "" else value
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("llm_model")
    @classmethod
    def _provider_model(cls, value: str) -> str:
        if value != "offline" and ":" not in value:
            raise ValueError("expected provider:model, e.g. openai:gpt-4o-mini, or offline")
        return value

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
