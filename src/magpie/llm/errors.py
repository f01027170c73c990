"""Vendor failures, described in a few words a user can read (the words are in texts.py)."""

from __future__ import annotations

from pydantic_ai import exceptions as x

from magpie.texts import ENGLISH, FailureReasons


class CircuitOpenError(x.ModelUnavailableError):
    """Calls to a provider are paused after repeated failures; no request was sent."""

    def __init__(self, provider: str, *, retry_in: float) -> None:
        super().__init__(
            provider, f"circuit breaker for {provider} is open; retry in {retry_in:.0f} s"
        )
        self.provider = provider
        self.retry_in = retry_in


def describe(error: BaseException, reasons: FailureReasons = ENGLISH.reasons) -> str:
    """A short, safe reason for a failed model call (never the vendor's raw message)."""
    if isinstance(error, BaseExceptionGroup) and error.exceptions:
        return describe(error.exceptions[0], reasons)  # every model failed: the primary's reason
    checks: list[tuple[type[BaseException] | tuple[type[BaseException], ...], str]] = [
        (CircuitOpenError, reasons.paused),
        (x.ModelRateLimitError, reasons.rate_limited),
        (x.ModelQuotaExceededError, reasons.quota),
        (x.ModelOverloadedError, reasons.overloaded),
        ((x.ModelTimeoutError, x.ModelRequestTimeout, TimeoutError), reasons.too_slow),
        (x.ModelConnectionError, reasons.unreachable),
        (x.ModelContextWindowExceededError, reasons.too_long),
        (x.ModelAuthenticationError, reasons.bad_key),
        (x.ModelNotFoundError, reasons.no_such_model),
        (x.ContentFilterError, reasons.filtered),
        ((x.ModelServerError, x.ModelUnavailableError), reasons.failed),
        (x.ModelRequestRejectedError, reasons.rejected),
        (x.UnexpectedModelBehavior, reasons.unreadable),
        (x.ModelAPIError, reasons.failed),
    ]
    for kinds, reason in checks:
        if isinstance(error, kinds):
            return reason
    return reasons.unexpected
