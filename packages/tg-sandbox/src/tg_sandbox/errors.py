"""Bot API errors with Telegram's exact envelope: status code = error_code."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failed Bot API call, rendered as {"ok": false, "error_code": ..., "description": ...}."""

    def __init__(
        self, code: int, description: str, *, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    @property
    def retry_after(self) -> int | None:
        value = (self.parameters or {}).get("retry_after")
        return int(value) if value is not None else None

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: {message}")


def forbidden(message: str) -> ApiError:
    return ApiError(403, f"Forbidden: {message}")


def not_found(message: str | None = None) -> ApiError:
    return ApiError(404, f"Not Found: {message}" if message else "Not Found")


def unauthorized(message: str | None = None) -> ApiError:
    return ApiError(401, f"Unauthorized: {message}" if message else "Unauthorized")


def conflict(message: str) -> ApiError:
    return ApiError(409, f"Conflict: {message}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        parameters={"retry_after": retry_after},
    )


def required(name: str) -> ApiError:
    return bad_request(f'parameter "{name}" is required')
