"""Fault drills: Magpie as a real process, killed, starved of its database, refused by
Telegram and stopped mid-answer; each asserts on the end state, never on timing.

Each prints its counts (in, answered once, answered twice, lost, failed with reason) and
attaches them to the test report as the `drill` property.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.drills.end_state import Tally
from tests.drills.harness import Drill
from tests.drills.payments import payments_under_kills
from tests.drills.scenarios import crash_loop, database_outage, sigterm_mid_stream, telegram_faults

RecordProperty = Callable[[str, object], None]  # pytest's record_property fixture
pytestmark = [pytest.mark.drill, pytest.mark.timeout(360)]


def reported(tally: Tally, record_property: RecordProperty) -> Tally:
    print(tally.report())
    record_property("drill", json.dumps(tally.as_json()))
    return tally


async def test_kill_9_at_random_points_of_a_backlog_loses_and_doubles_nothing(
    drill: Drill, record_property: RecordProperty
) -> None:
    tally = reported(await crash_loop(drill), record_property)
    assert not tally.problems, tally.report()


async def test_a_database_outage_mid_traffic_loses_nothing(
    drill: Drill, record_property: RecordProperty
) -> None:
    tally = reported(await database_outage(drill), record_property)
    assert not tally.problems, tally.report()


async def test_telegram_5xx_resets_hangs_and_429_storms_lose_and_double_nothing(
    drill: Drill, record_property: RecordProperty
) -> None:
    tally = reported(await telegram_faults(drill), record_property)
    assert not tally.problems, tally.report()


async def test_sigterm_mid_stream_exits_and_the_next_start_finishes_everything_once(
    drill: Drill, record_property: RecordProperty
) -> None:
    tally = reported(await sigterm_mid_stream(drill), record_property)
    assert not tally.problems, tally.report()


async def test_payments_survive_kill_9_right_after_telegram_took_them(
    drill: Drill, record_property: RecordProperty
) -> None:
    tally = await payments_under_kills(drill)
    print(tally.report())
    record_property("drill", tally.report())
    assert not tally.problems, tally.report()
