"""The garbage collector is tuned while Magpie serves and left as it was when it stops."""

from __future__ import annotations

import gc

from magpie.collector import YOUNG_THRESHOLD, tuned_for_serving


def test_start_up_objects_are_frozen_while_serving_and_released_after() -> None:
    before = gc.get_threshold()

    with tuned_for_serving():
        assert gc.get_freeze_count() > 10_000  # imported modules, schemas, the app itself
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
