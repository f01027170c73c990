"""The event loop's lateness, measured on injected time, and what it turns off."""

from __future__ import annotations

import pytest

from magpie.observability.lag import LoopLag
from magpie.observability.metrics import Metrics


class Time:
    """A clock the test moves; the sleep moves it by what was asked, plus `late`."""

    def __init__(self) -> None:
        self.now = 100.0
        self.late = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds + self.late


async def test_a_loop_that_wakes_late_is_busy_and_the_operator_sees_by_how_much() -> None:
    time, metrics = Time(), Metrics()
    lag = LoopLag(metrics, interval=0.1, threshold=0.1, clock=time.clock, sleep=time.sleep)
    await lag.tick()
    assert not lag.busy()
    time.late = 0.35  # the timer woke 350 ms late: other work held the loop
    await lag.tick()
    assert lag.busy()
    assert metrics.registry.get_sample_value("magpie_event_loop_lag_seconds") == pytest.approx(0.35)
    time.late = 0.0
    await lag.tick()
    assert not lag.busy()


async def test_one_stall_leaves_previews_on_but_a_loop_that_keeps_running_late_is_busy() -> None:
    time, metrics = Time(), Metrics()
    lag = LoopLag(metrics, clock=time.clock, sleep=time.sleep)  # the defaults magpie runs with
    time.late = 0.06  # one garbage collection's pause
    await lag.tick()
    time.late = 0.001  # then on time again, as a loop that keeps up is
    await lag.tick()
    assert not lag.busy()
    for _ in range(3):  # saturated with turns: every wake-up ~40 ms late
        time.late = 0.04
        await lag.tick()
    assert lag.busy()
    for _ in range(10):  # the load has passed
        time.late = 0.001
        await lag.tick()
    assert not lag.busy()
