"""The tool guard: permissions, asking the invoking person first, recording, framing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from magpie.tools.builtin.notes import MemoryNotes
from magpie.tools.catalog import builtin_tools
from magpie.tools.deps import ToolDeps
from magpie.tools.guard import AskFirst, ToolCallRecord, decline_tool, run_tool
from magpie.tools.spec import Access, ToolSpec, tool
from tests.tools.tool_deps import StatusLog, make_deps


class Log:
    def __init__(self) -> None:
        self.calls: list[ToolCallRecord] = []

    async def record(self, call: ToolCallRecord) -> None:
        self.calls.append(call)


async def wipe(deps: ToolDeps, what: str) -> str:
    """Delete something (a side effect)."""
    return f"deleted {what}"


async def explode(deps: ToolDeps) -> str:
    """Always fails."""
    raise RuntimeError("disk on fire")


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient() as client:
        yield client


def spec(name: str) -> ToolSpec:
    return next(s for s in builtin_tools() if s.name == name)


async def test_a_read_only_tool_runs_shows_its_status_once_and_is_framed(
    http: httpx.AsyncClient,
) -> None:
    status, log = StatusLog(), Log()
    deps = make_deps(http, status=status)
    result = await run_tool(spec("calculate"), deps, {"expression": "6*7"}, calls=log)
    assert isinstance(result, str) and "42" in result
    assert result.startswith('<tool_result tool="calculate" trust="untrusted">')
    assert "not instructions" in result
    assert status.shown == ["calculating…"]
    assert [(c.tool, c.outcome) for c in log.calls] == [("calculate", "ok")]


async def test_a_side_effect_waits_for_the_invoker_and_runs_only_when_allowed(
    http: httpx.AsyncClient,
) -> None:
    side = tool(wipe, side_effects=True)
    log, status = Log(), StatusLog()
    deps = make_deps(http, status=status)
    asked = await run_tool(side, deps, {"what": "x"}, calls=log)
    assert asked == AskFirst(side, {"what": "x"})
    assert log.calls == [] and status.shown == []  # nothing ran, nothing shown yet
    declined = await decline_tool(side, deps, {"what": "x"}, calls=log)
    assert declined == "Olena did not allow wipe; it was not done."
    allowed = await run_tool(side, deps, {"what": "x"}, calls=log, approved=True)
    assert isinstance(allowed, str) and "deleted x" in allowed
    assert [c.outcome for c in log.calls] == ["declined", "ok"]


@pytest.mark.parametrize(
    ("access", "chat_admin", "bot_admin", "allowed"),
    [
        (Access.CHAT_ADMINS, False, False, False),
        (Access.CHAT_ADMINS, True, False, True),
        (Access.BOT_ADMINS, True, False, False),
        (Access.BOT_ADMINS, False, True, True),
    ],
)
async def test_tools_act_with_the_invokers_permissions(
    http: httpx.AsyncClient, access: Access, chat_admin: bool, bot_admin: bool, allowed: bool
) -> None:
    guarded = tool(wipe, access=access)
    deps = make_deps(http)
    deps.is_chat_admin, deps.is_bot_admin = chat_admin, bot_admin
    log = Log()
    result = await run_tool(guarded, deps, {"what": "x"}, calls=log, approved=True)
    assert isinstance(result, str) and ("deleted x" in result) is allowed
    assert log.calls[0].outcome == ("ok" if allowed else "refused")


async def test_a_failing_tool_becomes_text_for_the_model(http: httpx.AsyncClient) -> None:
    log = Log()
    result = await run_tool(tool(explode), make_deps(http), {}, calls=log)
    assert result == "The tool explode failed: RuntimeError: disk on fire"
    assert log.calls[0].error == "RuntimeError: disk on fire"


async def test_notes_stay_in_their_chat_whatever_the_model_asks(http: httpx.AsyncClient) -> None:
    notes = MemoryNotes()
    here = make_deps(http, notes=notes, chat_id=-1)
    there = make_deps(http, notes=notes, chat_id=-2)
    await run_tool(spec("save_note"), here, {"text": "secret plan"}, calls=Log(), approved=True)
    found = await run_tool(spec("find_notes"), there, {"query": "secret"}, calls=Log())
    assert isinstance(found, str) and "secret plan" not in found
    with pytest.raises(TypeError):  # there is no way to name another chat
        await spec("find_notes").function(there, query="secret", chat_id=-1)


def test_builtin_tools_have_schemas_from_their_signatures() -> None:
    schemas = {s.name: s.parameters for s in builtin_tools()}
    assert schemas["current_time"]["properties"]["timezone"] == {"default": "UTC", "type": "string"}
    assert schemas["read_page"]["required"] == ["url"]
    assert all("deps" not in (p.get("properties") or {}) for p in schemas.values())


def test_web_search_is_offered_only_with_a_search_service() -> None:
    """Without SEARXNG_URL the tool could only say "not configured": the model never sees it."""
    assert "web_search" in {s.name for s in builtin_tools(can_search=True)}
    offered = {s.name for s in builtin_tools(can_search=False)}
    assert "web_search" not in offered
    assert {"current_time", "calculate", "weather", "read_page"} <= offered
