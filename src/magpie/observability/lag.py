"""How late the event loop runs: a timer that should wake every `interval` seconds, and how
much later it does. A loop that runs late is busy with more work than it can keep up with;
optional work (reply previews) is then skipped so the answers themselves come sooner."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from magpie.observability.metrics import Metrics


class LoopLag:
    """The latest lateness of a periodic timer; `busy()` once it passes `threshold` seconds."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        interval: float = 0.1,
        threshold: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.metrics = metrics
        self.interval = interval
        self.threshold = threshold
        self.clock = clock
        self.sleep = sleep
        self.lag = 0.0

    def busy(self) -> bool:
        return self.lag > self.threshold

    async def tick(self) -> None:
        """One measurement: sleep `interval`, note how much longer it took."""
        began = self.clock()
        await self.sleep(self.interval)
        self.lag = max(0.0, self.clock() - began - self.interval)
        self.metrics.loop_lag.set(self.lag)

    async def watch(self) -> None:
        """Measure for as long as Magpie runs."""
        while True:
            await self.tick()
