"""Resilient model calls: the one retry layer, a first-token timeout, breakers and fallbacks.

Retries live here and nowhere else: Magpie's SDK clients have `max_retries=0` (a per-request
`max_retries` setting is forced back to 0 below), google-genai retries only with `retry_options`
(never set), and pydantic-ai never retries a failed request by itself (only capabilities raising
`RetryModelRequest`, like `ModelFallback`, do; Magpie uses none). The agent's `retries` are for
invalid tool arguments and output, which the model must fix, not for outages.

Only public pydantic-ai API is used (ADR "resilience on public APIs"): `WrapperModel` to wrap,
`FallbackModel` to open a stream and hold it back until its first event (under the public
`first_event_timeout` setting), tenacity for the waits, and Magpie's own breakers.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings, merge_model_settings
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from magpie.llm.breakers import Breakers, is_outage
from magpie.llm.errors import describe

if TYPE_CHECKING:
    from pydantic_ai import RunContext
    from pydantic_ai.messages import ModelMessage, ModelResponse

    from magpie.config import Settings

log = structlog.get_logger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
MAX_BACKOFF_SECONDS = 10.0


@dataclass(frozen=True)
class Resilience:
    """How hard to try one model: `retries` after the first attempt, then let a fallback answer."""

    retries: int
    first_token_seconds: float
    breaker_failures: int
    breaker_reset_seconds: float
    max_retry_after: float = 30.0
    backoff_seconds: float = 0.5  # the first jittered wait; doubles per retry up to 10 s

    @classmethod
    def from_settings(cls, settings: Settings) -> Resilience:
        """The policy from LLM_RETRIES, LLM_FIRST_TOKEN_SECONDS and LLM_BREAKER_*."""
        return cls(
            retries=settings.llm_retries,
            first_token_seconds=settings.llm_first_token_seconds,
            breaker_failures=settings.llm_breaker_failures,
            breaker_reset_seconds=settings.llm_breaker_reset_seconds,
        )


def resilient(
    model: Model,
    *,
    provider: str,
    policy: Resilience,
    breakers: Breakers,
    sleep: Sleep = asyncio.sleep,
) -> Model:
    """`model` with retries, a first-token timeout and `provider`'s circuit breaker."""
    return ResilientModel(model, provider=provider, policy=policy, breakers=breakers, sleep=sleep)


def _never(error: Exception) -> bool:
    """A `fallback_on` that lets every error through as it is."""
    return False


class Primed(WrapperModel):
    """`wrapped`, whose streams are handed over only once their first event is in hand.

    A `FallbackModel` of one model that never falls back does exactly that through its public
    contract: it opens the stream, waits for the first event (under `first_event_timeout`, if
    set) and hands the stream over with that event still to come. It also prepares the messages
    for the model it calls, so this layer passes them through as `FallbackModel` does.
    """

    def __init__(self, wrapped: Model) -> None:
        super().__init__(wrapped)
        self._primer = FallbackModel(self.wrapped, fallback_on=_never)

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        return await self._primer.request(messages, model_settings, model_request_parameters)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        async with self._primer.request_stream(
            messages, model_settings, model_request_parameters, run_context
        ) as response:
            yield response

    def prepare_messages(
        self,
        messages: list[ModelMessage],
        model_request_parameters: ModelRequestParameters | None = None,
    ) -> list[ModelMessage]:
        return messages  # prepared once, for `wrapped`, by the primer


class ResilientModel(Primed):
    """Retries outages of one model before anything reaches the caller; never after."""

    def __init__(
        self,
        wrapped: Model,
        *,
        provider: str,
        policy: Resilience,
        breakers: Breakers,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(wrapped)
        self._circuit = provider
        self._policy = policy
        self._breakers = breakers
        self._sleep = sleep
        self._backoff = wait_random_exponential(
            multiplier=policy.backoff_seconds, max=MAX_BACKOFF_SECONDS
        )

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        model_settings = _one_retry_layer(model_settings)

        async def attempt() -> ModelResponse:
            async with self._guard():
                return await self._primer.request(
                    messages, model_settings, model_request_parameters
                )

        return await self._retrying(attempt)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        first_token = ModelSettings(first_event_timeout=self._policy.first_token_seconds)
        timed = merge_model_settings(first_token, _one_retry_layer(model_settings))
        async with AsyncExitStack() as kept:

            async def attempt() -> StreamedResponse:
                async with AsyncExitStack() as stack:
                    await stack.enter_async_context(self._guard())
                    response = await stack.enter_async_context(
                        self._primer.request_stream(
                            messages, timed, model_request_parameters, run_context
                        )
                    )
                    kept.push_async_exit(stack.pop_all())  # the breaker sees the whole stream
                    return response

            # The first event is in hand before anything is yielded, so only failures that
            # produced nothing are retried; one after this point reaches the caller as is.
            yield await self._retrying(attempt)

    def _guard(self) -> AbstractAsyncContextManager[None]:
        policy = self._policy
        return self._breakers.guard(
            self._circuit,
            failures=policy.breaker_failures,
            reset_seconds=policy.breaker_reset_seconds,
        )

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=stop_after_attempt(1 + self._policy.retries),
            wait=self._wait,
            retry=retry_if_exception(self._retryable),
            before_sleep=self._log_retry,
            reraise=True,
        )
        async for each in retrying:
            with each:
                return await attempt()
        raise AssertionError("tenacity either returns a result or re-raises")

    def _retryable(self, error: BaseException) -> bool:
        if not is_outage(error):
            return False
        if self._breakers.state(self._circuit) == "opened":
            return False  # that outage opened the breaker: the next attempt could only fail
        retry_after = error.retry_after if isinstance(error, ModelAPIError) else None
        if retry_after is not None and retry_after > self._policy.max_retry_after:
            log.warning(
                "llm.retry_after_too_long",
                provider=self._circuit,
                retry_after=retry_after,
                limit=self._policy.max_retry_after,
            )
            return False  # fail fast so a fallback can answer now
        return True

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ModelAPIError) and error.retry_after is not None:
            return error.retry_after * random.uniform(1.0, 1.1)
        return self._backoff(state)

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "llm.retrying",
            provider=self._circuit,
            attempt=state.attempt_number + 1,
            attempts=1 + self._policy.retries,
            wait=round(state.next_action.sleep if state.next_action else 0.0, 2),
            error=brief(error),
        )


def with_fallbacks(primary: tuple[str, Model], fallbacks: list[tuple[str, Model]]) -> Model:
    """Try each `(label, model)` in turn until one answers; never once a stream has begun."""
    if not fallbacks:
        return primary[1]
    chain = [primary, *fallbacks]
    candidates = [
        _Candidate(model, label=label, next_label=chain[i + 1][0] if i + 1 < len(chain) else None)
        for i, (label, model) in enumerate(chain)
    ]
    # FallbackModel hands a stream over only after its first event, and then never falls back.
    return FallbackModel(*candidates, fallback_on=(ModelAPIError,))


class _Candidate(WrapperModel):
    """One model of a fallback chain: logs `llm.fallback` when it fails before answering."""

    def __init__(self, wrapped: Model, *, label: str, next_label: str | None) -> None:
        # Primed, so a stream that fails before its first event fails here, where it is logged.
        super().__init__(wrapped if isinstance(wrapped, Primed) else Primed(wrapped))
        self._label = label
        self._next_label = next_label

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        try:
            return await self.wrapped.request(messages, model_settings, model_request_parameters)
        except ModelAPIError as error:
            self._announce(error)
            raise

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        async with AsyncExitStack() as stack:
            try:
                response = await stack.enter_async_context(
                    self.wrapped.request_stream(
                        messages, model_settings, model_request_parameters, run_context
                    )
                )
            except ModelAPIError as error:
                self._announce(error)
                raise
            yield response

    def _announce(self, error: ModelAPIError) -> None:
        if self._next_label is not None:
            log.warning(
                "llm.fallback",
                **{"from": self._label, "to": self._next_label},
                reason=describe(error),
                error=brief(error),
            )


def _one_retry_layer(model_settings: ModelSettings | None) -> ModelSettings | None:
    """Keep the SDK from retrying too, should anyone set `max_retries` per request."""
    if model_settings and model_settings.get("max_retries"):
        return merge_model_settings(model_settings, ModelSettings(max_retries=0))
    return model_settings


def brief(error: BaseException | None) -> str:
    """The error's kind and HTTP status, for logs; never the vendor's message."""
    if error is None:
        return "none"
    status = f" {error.status_code}" if isinstance(error, ModelHTTPError) else ""
    return f"{type(error).__name__}{status}"
