"""One circuit breaker per provider, shared by every turn, and what trips it.

Closed: calls go through and consecutive outages are counted. Opened after `failures` of them:
calls fail at once with `CircuitOpenError` for `reset_seconds`. Then half-opened: one call at a
time goes through as a probe; its success closes the breaker, its outage opens it again.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import structlog
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

Clock = Callable[[], float]
State = Literal["closed", "opened", "half-opened"]

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


@dataclass
class _Circuit:
    """One provider's breaker: outages in a row, when it opened, whether a probe is out."""

    reset_seconds: float
    outages: int = 0
    opened_at: float | None = None
    probing: bool = False


class Breakers:
    """Circuit breakers by provider name; APP-scoped so every turn sees the same state."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}

    def state(self, provider: str) -> State:
        """`closed`, `opened` or `half-opened` (the next call is a probe), for logs and admins."""
        circuit = self._circuits.get(provider)
        if circuit is None or circuit.opened_at is None:
            return "closed"
        if self._clock() < circuit.opened_at + circuit.reset_seconds:
            return "opened"
        return "half-opened"

    @asynccontextmanager
    async def guard(
        self, provider: str, *, failures: int, reset_seconds: float
    ) -> AsyncIterator[None]:
        """Run one attempt under `provider`'s breaker; raise `CircuitOpenError` while it is open."""
        circuit = self._circuits.setdefault(provider, _Circuit(reset_seconds))
        circuit.reset_seconds = reset_seconds
        state = self.state(provider)
        if state == "opened" or (state == "half-opened" and circuit.probing):
            raise self._open_error(provider, circuit)  # one probe at a time after the reset time
        probe = state == "half-opened"
        if probe:
            circuit.probing = True
            log.info("llm.breaker_half_open", provider=provider)
        try:
            yield
        except ModelAPIError as error:
            # Only outages count; any other answer from the provider shows it is up.
            if is_outage(error):
                self._failed(provider, circuit, failures=failures, probe=probe)
            else:
                self._answered(provider, circuit)
            raise
        except BaseException:
            # Cancellation or the consumer's own error says nothing about the provider.
            if probe:
                circuit.probing = False
            raise
        self._answered(provider, circuit)

    def _failed(self, provider: str, circuit: _Circuit, *, failures: int, probe: bool) -> None:
        circuit.probing = False
        circuit.outages += 1
        if probe or (circuit.opened_at is None and circuit.outages >= failures):
            circuit.opened_at = self._clock()
            log.warning(
                "llm.breaker_opened",
                provider=provider,
                failures=circuit.outages,
                reset_seconds=circuit.reset_seconds,
            )

    def _answered(self, provider: str, circuit: _Circuit) -> None:
        was_open = circuit.opened_at is not None
        circuit.outages, circuit.opened_at, circuit.probing = 0, None, False
        if was_open:
            log.info("llm.breaker_closed", provider=provider)

    def _open_error(self, provider: str, circuit: _Circuit) -> CircuitOpenError:
        assert circuit.opened_at is not None
        reopens_at = circuit.opened_at + circuit.reset_seconds
        return CircuitOpenError(provider, retry_in=max(0.0, reopens_at - self._clock()))
