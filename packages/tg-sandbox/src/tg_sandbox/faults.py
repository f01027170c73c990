"""Scripted faults: the next N calls of a method answer an error, hang or drop the connection."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Literal

from tg_sandbox.errors import ApiError, too_many_requests

FaultKind = Literal["error", "hang", "reset"]

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected fault",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(slots=True)
class Fault:
    """What to do instead of the real call, for `times` calls of `method` ("*" for any)."""

    method: str
    kind: FaultKind = "error"
    status: int = 500
    description: str | None = None
    retry_after: int = 1
    hang_seconds: float = 3600.0
    times: int = 1
    token: str | None = None

    def error(self) -> ApiError:
        if self.status == 429:
            return too_many_requests(self.retry_after)
        description = self.description or DEFAULT_DESCRIPTIONS.get(self.status, "Injected fault")
        return ApiError(self.status, description)


class FaultPlan:
    """Faults waiting to fire, matched in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._released: asyncio.Event | None = None

    async def hang(self, seconds: float) -> None:
        """Hold a call for `seconds`, or until the sandbox stops or resets."""
        if self._released is None:
            self._released = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), seconds)

    def release(self) -> None:
        """End every hanging call now."""
        if self._released is not None:
            self._released.set()
            self._released = None

    def add(self, fault: Fault) -> None:
        fault.method = fault.method.lower()
        self._faults.append(fault)

    def take(self, method: str, token: str) -> Fault | None:
        """The fault for this call, if any, counting it as used."""
        for fault in self._faults:
            if fault.method in ("*", method) and fault.token in (None, token):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def pending(self) -> list[Fault]:
        return list(self._faults)

    def clear(self) -> None:
        self._faults.clear()
