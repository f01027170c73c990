"""Vendor failures, described in a few words a user can read."""

from __future__ import annotations

from pydantic_ai import exceptions as x


class CircuitOpenError(x.ModelUnavailableError):
    """Calls to a provider are paused after repeated failures; no request was sent."""

    def __init__(self, provider: str, *, retry_in: float) -> None:
        super().__init__(
            provider, f"circuit breaker for {provider} is open; retry in {retry_in:.0f} s"
        )
        self.provider = provider
        self.retry_in = retry_in


def describe(error: BaseException) -> str:
    """A short, safe reason for a failed model call (never the vendor's raw message)."""
    if isinstance(error, BaseExceptionGroup) and error.exceptions:
        return describe(error.exceptions[0])  # every model failed: the primary's reason
    checks: list[tuple[type[BaseException] | tuple[type[BaseException], ...], str]] = [
        (CircuitOpenError, "the model service keeps failing, so Magpie paused calls to it"),
        (x.ModelRateLimitError, "the model is rate-limited right now"),
        (x.ModelQuotaExceededError, "the model's quota is used up"),
        (x.ModelOverloadedError, "the model service is overloaded"),
        ((x.ModelTimeoutError, x.ModelRequestTimeout, TimeoutError), "the model took too long"),
        (x.ModelConnectionError, "the model service could not be reached"),
        (x.ModelContextWindowExceededError, "the conversation is too long for the model"),
        (x.ModelAuthenticationError, "the model rejected Magpie's API key"),
        (x.ModelNotFoundError, "the configured model does not exist"),
        (x.ContentFilterError, "the model's content filter blocked the answer"),
        ((x.ModelServerError, x.ModelUnavailableError), "the model service failed"),
        (x.ModelRequestRejectedError, "the model rejected the request"),
        (x.UnexpectedModelBehavior, "the model sent something unreadable"),
        (x.ModelAPIError, "the model service failed"),
    ]
    for kinds, reason in checks:
        if isinstance(error, kinds):
            return reason
    return "unexpected error"
