"""One circuit breaker per provider (purgatory), shared by every turn, and what trips it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from purgatory import AsyncCircuitBreakerFactory, ContextChanged, Event
from purgatory.domain.model import OpenedState
from purgatory.service._async.circuitbreaker import AsyncCircuitBreaker
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelRequestTimeout,
    ModelServerError,
    ModelUnavailableError,
)

from magpie.llm.errors import CircuitOpenError

log = structlog.get_logger(__name__)

_OUTAGES = (
    ModelRateLimitError,
    ModelUnavailableError,
    ModelServerError,
    ModelConnectionError,
    ModelRequestTimeout,
)


def is_outage(error: BaseException) -> bool:
    """429, 5xx/overloaded, timeouts, connection errors: the provider is unwell, not the request."""
    if isinstance(error, CircuitOpenError):
        return False
    if isinstance(error, _OUTAGES):
        return True
    return isinstance(error, ModelHTTPError) and (
        error.status_code in (408, 429) or error.status_code >= 500
    )


class Breakers:
    """Circuit breakers by provider name; APP-scoped so every turn sees the same state."""

    def __init__(self) -> None:
        self._factory = AsyncCircuitBreakerFactory()
        self._factory.add_listener(self._on_event)
        self._circuits: dict[str, AsyncCircuitBreaker] = {}
        self._probing: set[str] = set()

    def state(self, provider: str) -> str:
        """`closed`, `opened` or `half-opened` (the next call is a probe), for logs and admins."""
        circuit = self._circuits.get(provider)
        if circuit is None:
            return "closed"
        context = circuit.context
        if context.state == "opened" and time.time() > (context.opened_at or 0) + context.ttl:
            return "half-opened"
        return context.state

    @asynccontextmanager
    async def guard(
        self, provider: str, *, failures: int, reset_seconds: float
    ) -> AsyncIterator[None]:
        """Run one attempt under `provider`'s breaker; raise `CircuitOpenError` while it is open."""
        circuit = self._circuits.get(provider)
        if circuit is None:
            made = await self._factory.get_breaker(provider, threshold=failures, ttl=reset_seconds)
            circuit = self._circuits.setdefault(provider, made)
        state = self.state(provider)
        if state == "opened" or (state == "half-opened" and provider in self._probing):
            raise self._open_error(circuit)  # one probe at a time once the reset time has passed
        try:
            await circuit.__aenter__()
        except OpenedState as opened:  # opened by a concurrent call just now
            opened.__traceback__ = None  # purgatory raises the same instance every time
            raise self._open_error(circuit) from None
        probe = state == "half-opened"
        if probe:
            self._probing.add(provider)
        try:
            yield
        except ModelAPIError as error:
            # Only outages count; any other answer from the provider shows it is up.
            verdict = error if is_outage(error) else None
            await circuit.__aexit__(type(verdict) if verdict else None, verdict, None)
            raise
        # Anything else (cancellation, the consumer's own error) says nothing about the provider.
        else:
            await circuit.__aexit__(None, None, None)
        finally:
            if probe:
                self._probing.discard(provider)

    @staticmethod
    def _open_error(circuit: AsyncCircuitBreaker) -> CircuitOpenError:
        context = circuit.context
        reopens_at = (context.opened_at or time.time()) + context.ttl
        return CircuitOpenError(context.name, retry_in=max(0.0, reopens_at - time.time()))

    def _on_event(self, name: str, kind: str, event: Event) -> None:
        if kind != "state_changed" or not isinstance(event, ContextChanged):
            return
        circuit = self._circuits.get(name)
        if event.state == "opened":
            context = circuit.context if circuit else None
            log.warning(
                "llm.breaker_opened",
                provider=name,
                failures=context.threshold if context else None,
                reset_seconds=context.ttl if context else None,
            )
        elif event.state == "closed":
            log.info("llm.breaker_closed", provider=name)
        else:
            log.info("llm.breaker_half_open", provider=name)
