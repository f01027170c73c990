"""Nothing Magpie keeps in memory grows with the number of people who ever wrote to it."""

from __future__ import annotations

from aiogram.fsm.storage.memory import MemoryStorage

from tests.e2e.conftest import Harness


async def test_talking_to_many_people_leaves_no_state_per_person(magpie: Harness) -> None:
    """Regression: aiogram's default FSM storage kept a record per (chat, user) forever."""
    for i in range(20):
        person = magpie.sandbox.add_user(f"Person {i}")
        magpie.sandbox.people.send_text(person, magpie.account, "hi")
    await magpie.settled(within=30)
    storage = magpie.runtime.dispatcher.storage
    assert isinstance(storage, MemoryStorage)
    assert len(storage.storage) == 0
