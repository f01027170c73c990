"""How late the event loop runs: a timer that should wake every `interval` seconds, and how
much later it does. A loop that keeps running late is busy with more work than it can keep up
with; optional work (reply previews) is then skipped so the answers themselves come sooner.

"Keeps running late" is the lateness averaged over the last second or so (an exponentially
weighted mean of the ticks): one stall — a garbage collection, a big message rendered — does
not switch previews off, and a loop saturated with turns (every wake-up 30–100 ms late on a
busy two-core machine, against ~1 ms when it keeps up) does within a few ticks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from magpie.observability.metrics import Metrics

SMOOTHING = 0.3  # the weight of the newest tick: ~1 s of 0.1 s ticks in the mean


class LoopLag:
    """The lateness of a periodic timer; `busy()` while its recent mean passes `threshold`."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        interval: float = 0.1,
        threshold: float = 0.025,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.metrics = metrics
        self.interval = interval
        self.threshold = threshold
        self.clock = clock
        self.sleep = sleep
        self.lag = 0.0  # the latest tick's
        self.recent = 0.0  # the recent mean

    def busy(self) -> bool:
        return self.recent > self.threshold

    async def tick(self) -> None:
        """One measurement: sleep `interval`, note how much longer it took."""
        began = self.clock()
        await self.sleep(self.interval)
        self.lag = max(0.0, self.clock() - began - self.interval)
        self.recent += SMOOTHING * (self.lag - self.recent)
        self.metrics.loop_lag.set(self.lag)

    async def watch(self) -> None:
        """Measure for as long as Magpie runs."""
        while True:
            await self.tick()
