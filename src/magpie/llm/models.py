"""Models from `provider:model` strings, with explicit timeouts and no hidden SDK retries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx2
from pydantic_ai.models import Model as VendorModel

from magpie.config import ConfigError, Settings
from magpie.llm.offline import OFFLINE_NAME, offline_model
from magpie.llm.tool_schemas import fitted_once

OLLAMA_URL = "http://localhost:11434/v1"
PROVIDERS = ("offline", "openai", "ollama", "anthropic", "google", "gemini")


@dataclass(frozen=True, slots=True)
class ModelSpec:
    provider: str
    name: str

    @property
    def label(self) -> str:
        return OFFLINE_NAME if self.provider == "offline" else f"{self.provider}:{self.name}"


def parse_spec(text: str) -> ModelSpec:
    """`offline`, `openai:gpt-4o-mini`, `anthropic:...`, `google:gemini-...`, `ollama:...`."""
    if text.strip() == "offline":
        return ModelSpec("offline", "offline")
    provider, _, name = text.partition(":")
    provider = provider.strip().lower()
    if provider not in PROVIDERS or not name.strip():
        raise ConfigError(
            f"LLM_MODEL={text!r} is invalid: expected offline or provider:model "
            f"with provider one of {', '.join(PROVIDERS[1:])}"
        )
    return ModelSpec(provider, name.strip())


def _timeout(settings: Settings) -> httpx2.Timeout:
    """Connect fast or fail; the whole call within LLM_TIMEOUT_SECONDS (SDKs default to 600 s)."""
    return httpx2.Timeout(settings.llm_timeout_seconds, connect=settings.llm_connect_seconds)


def _needs(value: object, variable: str, spec: ModelSpec) -> None:
    if value is None:
        raise ConfigError(f"LLM_MODEL={spec.label!r} needs {variable}: it is not set")


@dataclass(frozen=True, slots=True)
class BuiltModel:
    """A pydantic-ai model and how to close the SDK client Magpie created for it."""

    model: VendorModel
    close: Callable[[], Awaitable[None]]


async def _nothing_to_close() -> None:
    return None


def build_model(spec: ModelSpec, settings: Settings) -> BuiltModel:
    """The pydantic-ai model for a spec; fails fast with one line when a key is missing."""
    if spec.provider == "offline":
        model = offline_model(words_per_second=settings.offline_words_per_second)
        return BuiltModel(model, _nothing_to_close)
    if spec.provider in ("openai", "ollama"):
        from openai import AsyncOpenAI
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        base_url = settings.openai_base_url or (OLLAMA_URL if spec.provider == "ollama" else None)
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        if base_url is None:
            _needs(key, "OPENAI_API_KEY", spec)
        client = AsyncOpenAI(
            api_key=key or "not-needed",
            base_url=base_url,
            timeout=_timeout(settings),
            max_retries=0,
        )
        openai_provider = OpenAIProvider(openai_client=client)
        return BuiltModel(
            fitted_once(
                lambda profile: OpenAIChatModel(
                    spec.name, provider=openai_provider, profile=profile
                )
            ),
            client.close,
        )
    if spec.provider == "anthropic":
        from anthropic import AsyncAnthropic
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        _needs(settings.anthropic_api_key, "ANTHROPIC_API_KEY", spec)
        assert settings.anthropic_api_key is not None
        anthropic_client = AsyncAnthropic(
            api_key=settings.anthropic_api_key.get_secret_value(),
            base_url=settings.anthropic_base_url,
            timeout=_timeout(settings),
            max_retries=0,
        )
        anthropic_provider = AnthropicProvider(anthropic_client=anthropic_client)
        return BuiltModel(
            fitted_once(
                lambda profile: AnthropicModel(
                    spec.name, provider=anthropic_provider, profile=profile
                )
            ),
            anthropic_client.close,
        )
    from pydantic_ai.models.google import GoogleModel
    from pydantic_ai.providers.google import GoogleProvider
    from pydantic_ai.settings import ModelSettings

    _needs(settings.gemini_api_key, "GEMINI_API_KEY", spec)
    assert settings.gemini_api_key is not None
    provider = GoogleProvider(
        api_key=settings.gemini_api_key.get_secret_value(), base_url=settings.gemini_base_url
    )
    timeouts = ModelSettings(timeout=settings.llm_timeout_seconds)
    return BuiltModel(  # its provider owns the client: `async with model` closes it
        fitted_once(
            lambda profile: GoogleModel(
                spec.name, provider=provider, settings=timeouts, profile=profile
            )
        ),
        _nothing_to_close,
    )
