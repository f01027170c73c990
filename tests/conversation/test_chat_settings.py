"""Who may change a chat's tools, model and persona, and what each change does."""

from __future__ import annotations

from dataclasses import dataclass

from magpie.conversation.chat_settings import PERSONA_LIMIT, Change, ChatSettings
from magpie.conversation.memory import MemoryPreferences

GROUP, ANN, BOB, OPERATOR = -100, 1, 2, 99


class GroupAdmins:
    """Ann administers the group; a private chat belongs to its person. Remembers how it
    was asked (cached or fresh)."""

    def __init__(self) -> None:
        self.fresh: list[bool] = []

    async def is_admin(self, chat_id: int, user_id: int, *, fresh: bool = False) -> bool:
        self.fresh.append(fresh)
        return chat_id == user_id or (chat_id == GROUP and user_id == ANN)


@dataclass(frozen=True)
class Call:
    tool: str
    outcome: str
    duration_ms: int


class Log:
    async def recent(self, chat_id: int, *, limit: int = 10) -> list[Call]:
        return [Call("calculate", "ok", 3)][:limit]


def settings(
    preferences: MemoryPreferences | None = None, admins: GroupAdmins | None = None
) -> ChatSettings:
    return ChatSettings(
        preferences or MemoryPreferences(),
        admins or GroupAdmins(),
        Log(),
        bot_admins=frozenset({OPERATOR}),
        tools=["weather", "calculate"],
        models=["offline", "openai:gpt-4o-mini"],
        persona="You are Magpie.",
    )


async def test_in_a_group_only_admins_and_operators_change_tools() -> None:
    chat = settings()
    change, view = await chat.toggle_tool(GROUP, BOB, "calculate")
    assert change is Change.REFUSED and view.disabled == frozenset()
    change, view = await chat.toggle_tool(GROUP, ANN, "calculate")
    assert change is Change.DONE and view.disabled == {"calculate"}
    assert view.enabled == ["weather"]
    change, view = await chat.toggle_tool(GROUP, OPERATOR, "calculate")
    assert change is Change.DONE and view.disabled == frozenset()
    change, _ = await chat.toggle_tool(GROUP, ANN, "rm_rf")
    assert change is Change.UNKNOWN


async def test_the_call_log_is_shown_only_to_those_who_may_change_tools() -> None:
    chat = settings()
    assert (await chat.tools(GROUP, BOB, recent=5)).recent == ()
    assert [c.tool for c in (await chat.tools(GROUP, ANN, recent=5)).recent] == ["calculate"]
    assert (await chat.tools(BOB, BOB, recent=5)).may_change  # a private chat is Bob's


async def test_a_model_choice_that_is_no_longer_offered_falls_back_to_the_default() -> None:
    preferences = MemoryPreferences()
    chat = settings(preferences)
    assert await chat.choose_model(GROUP, BOB, "openai:gpt-4o-mini") is Change.REFUSED
    assert await chat.choose_model(GROUP, ANN, "anthropic:gone") is Change.UNKNOWN
    assert await chat.choose_model(GROUP, ANN, "openai:gpt-4o-mini") is Change.DONE
    assert await chat.model(GROUP) == "openai:gpt-4o-mini"
    await preferences.set_model(GROUP, "anthropic:removed-since")
    assert await chat.model(GROUP) == "offline"


async def test_a_persona_is_set_cut_to_its_limit_and_reset() -> None:
    chat = settings()
    assert await chat.set_persona(GROUP, BOB, "You are a pirate.") is Change.REFUSED
    assert await chat.persona(GROUP) == "You are Magpie."
    assert await chat.set_persona(GROUP, ANN, "  Arr. " + "x" * 3000) is Change.DONE
    persona = await chat.persona(GROUP)
    assert persona.startswith("Arr. ") and len(persona) == PERSONA_LIMIT
    assert await chat.set_persona(GROUP, ANN, "RESET") is Change.RESET
    assert await chat.persona(GROUP) == "You are Magpie."


async def test_a_change_asks_telegram_afresh_and_a_look_may_use_what_is_remembered() -> None:
    """A demoted admin must not keep changing settings on the strength of a cached answer."""
    admins = GroupAdmins()
    chat = settings(admins=admins)
    await chat.tools(GROUP, ANN)
    await chat.toggle_tool(GROUP, ANN, "calculate")
    await chat.set_persona(GROUP, ANN, "Be kind.")
    await chat.choose_model(GROUP, ANN, "offline")
    assert admins.fresh == [False, True, True, True]
