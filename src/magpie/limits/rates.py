"""A rate as a GCRA bucket ("virtual scheduling"): one number per bucket, the theoretical
arrival time (TAT) of the next message. The same arithmetic runs in memory and in Redis's Lua."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """`count` messages per `per` seconds, `burst` of them back to back; count 0: no limit."""

    count: float
    per: float = 1.0
    burst: float = 1.0

    def __post_init__(self) -> None:
        if self.count < 0 or self.per <= 0 or self.burst < 1:
            raise ValueError(f"invalid rate {self.count}/{self.per}s burst {self.burst}")

    @property
    def unlimited(self) -> bool:
        return self.count == 0

    @property
    def interval(self) -> float:
        """Seconds one message uses up."""
        return self.per / self.count

    @property
    def tolerance(self) -> float:
        """How far ahead of its pace a bucket may run: the burst beyond the first message."""
        return (self.burst - 1) * self.interval

    def tolerance_keeping(self, spare: int) -> float:
        """The tolerance for a message that must leave `spare` more messages' room (at most
        the burst allows)."""
        keep = min(spare, max(0, math.floor(self.burst - 1)))
        return self.tolerance - keep * self.interval


def earliest(tat: float | None, rate: Rate, now: float, *, spare: int = 0) -> float:
    """When the bucket lets the next message go (leaving room for `spare` more after it)."""
    return now if tat is None else max(now, tat - rate.tolerance_keeping(spare))


def after_sending(tat: float | None, rate: Rate, at: float) -> float:
    """The bucket's TAT once a message goes at `at`."""
    return max(tat if tat is not None else at, at) + rate.interval
