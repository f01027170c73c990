"""Fixtures for the model tests: the fake vendors, Magpie's models on them, logs, time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
import structlog
from pydantic_ai.models import Model
from structlog.testing import LogCapture

from magpie.config import load_settings
from magpie.llm import breakers as breakers_module
from magpie.llm import resilience as resilience_module
from magpie.llm.models import build_model, parse_spec
from tests.fakes.llm_vendors import FakeLLMVendors
from tests.llm.scripting import Clock, Script, Waits

OPENAI = "openai:gpt-4o-mini"
ANTHROPIC = "anthropic:claude-haiku-4-5"
GEMINI = "google:gemini-2.5-flash"


@pytest.fixture
async def fake() -> AsyncIterator[FakeLLMVendors]:
    async with FakeLLMVendors() as vendors:
        yield vendors


@pytest.fixture
def script(fake: FakeLLMVendors) -> Script:
    fake.responder = plan = Script()
    return plan


@pytest.fixture
async def vendor_models(fake: FakeLLMVendors) -> AsyncIterator[dict[str, Model]]:
    """The three vendors' models, built the way Magpie builds them, pointed at the fake."""
    settings = load_settings(
        env_file=None,
        openai_base_url=fake.openai_base_url,
        openai_api_key=fake.api_key,
        anthropic_base_url=fake.anthropic_base_url,
        anthropic_api_key=fake.api_key,
        gemini_base_url=fake.gemini_base_url,
        gemini_api_key=fake.api_key,
        llm_timeout_seconds=5,
    )
    async with AsyncExitStack() as stack:
        models: dict[str, Model] = {}
        for label in (OPENAI, ANTHROPIC, GEMINI):
            built = build_model(parse_spec(label), settings)
            stack.push_async_callback(built.close)
            models[label] = await stack.enter_async_context(built.model)
        yield models


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> LogCapture:
    """What the resilience layer logged, whatever structlog's global configuration."""
    capture = LogCapture()
    logger = structlog.wrap_logger(
        structlog.ReturnLogger(), processors=[capture], wrapper_class=structlog.BoundLogger
    )
    monkeypatch.setattr(resilience_module, "log", logger)
    monkeypatch.setattr(breakers_module, "log", logger)
    return capture


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def clock() -> Clock:
    return Clock()
