"""What the resilience tests script and watch: the vendors' answers, the waits, the clock."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tests.fakes.llm_vendors import Step, Vendor, VendorRequest, echo


@dataclass
class Script:
    """The fake's answers per vendor, in order (then the echo), and which vendor was asked when."""

    steps: dict[Vendor, deque[Step]] = field(default_factory=dict)
    asked: list[Vendor] = field(default_factory=list)

    def plan(self, vendor: Vendor, *steps: Step) -> None:
        self.steps.setdefault(vendor, deque()).extend(steps)

    def __call__(self, request: VendorRequest) -> Step:
        self.asked.append(request.vendor)
        queue = self.steps.get(request.vendor)
        return queue.popleft() if queue else echo(request)

    def vendors(self) -> list[Vendor]:
        return list(self.asked)


class Waits:
    """A `sleep` for the retry layer that waits for nothing and remembers what it was asked."""

    def __init__(self) -> None:
        self.requested: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.requested.append(seconds)


class Clock:
    """A monotonic clock for the breakers that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
