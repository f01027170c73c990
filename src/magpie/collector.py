"""Python's cyclic garbage collector, tuned for a long-running server that imports a lot.

Magpie's imports and start-up (pydantic-ai, three vendor SDKs, aiogram's models, MCP, the
tokenizer) leave ~250 MB of objects that live as long as the process. With the default
settings every full collection walks all of them, and a busy turn loop triggers one every few
seconds; young collections run every 700 allocations, and a single turn allocates tens of
thousands of objects. Measured in bench/turn_throughput.py, collection was a sixth of a turn's
CPU. So, once started: collect, freeze what is left (gc.freeze: never scanned again), and
collect the young generation less often. Undone at shutdown. See docs/adr/0008.

These settings are process-wide, so only `magpie run` applies them (GC_TUNING, on by default);
an application or test that embeds Magpie through `app.running()` keeps its own.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG_THRESHOLD = 20_000  # allocations between young collections (CPython's default: 700)


@contextlib.contextmanager
def tuned_for_serving() -> Iterator[None]:
    """Freeze what start-up left and collect young objects less often, until the block ends."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
