"""Per-chat choices: remembered between turns, and never staler than a few seconds."""

from __future__ import annotations

from magpie.conversation.types import Preferences
from magpie.storage.database import Database
from magpie.storage.directory import ChatInfo, Directory
from magpie.storage.preferences import SqlPreferences

CHAT = ChatInfo(id=-100_777, type="supergroup", title="Readers")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_change_is_seen_by_the_very_next_turn(migrated_db: Database) -> None:
    await Directory(migrated_db).remember(users=[], chat=CHAT)
    preferences = SqlPreferences(migrated_db)
    assert await preferences.get(CHAT.id) == Preferences()  # now remembered

    await preferences.set_persona(CHAT.id, "You are a pirate.")
    await preferences.set_tool(CHAT.id, "weather", enabled=False)

    seen = await preferences.get(CHAT.id)
    assert (seen.persona, seen.disabled_tools) == ("You are a pirate.", frozenset({"weather"}))


async def test_a_change_made_elsewhere_is_seen_within_the_ttl(migrated_db: Database) -> None:
    await Directory(migrated_db).remember(users=[], chat=CHAT)
    clock = Clock()
    here = SqlPreferences(migrated_db, ttl=10, clock=clock)
    elsewhere = SqlPreferences(migrated_db)  # another Magpie process, or an admin
    await elsewhere.set_model(CHAT.id, "openai:gpt-4o-mini")
    assert (await here.get(CHAT.id)).model == "openai:gpt-4o-mini"

    await elsewhere.set_model(CHAT.id, "anthropic:claude-3-5-haiku-latest")
    clock.now += 5
    assert (await here.get(CHAT.id)).model == "openai:gpt-4o-mini"  # remembered, not re-read
    clock.now += 6
    assert (await here.get(CHAT.id)).model == "anthropic:claude-3-5-haiku-latest"
