"""Time as the conversation reads it, passed in so tests can hold it still."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Clock:
    """`monotonic` seconds for durations, `now` (UTC) for deadlines stored in the database."""

    monotonic: Callable[[], float] = field(default=time.monotonic)
    now: Callable[[], datetime] = field(default=utc_now)
