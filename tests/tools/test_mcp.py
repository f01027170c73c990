"""MCP servers as a tool source: real servers (stdio, HTTP) behind the same guard as built-ins."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel
from structlog.testing import capture_logs

import magpie.tools.mcp
from magpie.config import ConfigError
from magpie.conversation.types import Caller, Preferences, Prompt
from magpie.llm.catalog import ModelCatalog
from magpie.llm.runner import ModelRunner
from magpie.tools.builtin.notes import MemoryNotes
from magpie.tools.deps import ToolSettings
from magpie.tools.guard import ToolCallRecord, run_tool
from magpie.tools.mcp import connect_mcp_servers, parse_mcp_servers, tool_name
from magpie.tools.mcp_results import result_text
from magpie.tools.spec import Access, ToolFailure, ToolSpec
from magpie.tools.toolbox import ToolBox
from tests.tools.mcp_server import MARKER, PIDFILE, http_server

ROOT = Path(__file__).parents[2]
MEMBER = Caller(user_id=42, name="Olena", chat_id=-1001)
ADMIN = Caller(user_id=7, name="Taras", chat_id=-1001, is_chat_admin=True)


MUTE = "import sys; sys.stdin.read()"  # a "server" that never answers


def running(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


class RecordingCallLog:
    def __init__(self) -> None:
        self.calls: list[ToolCallRecord] = []

    async def record(self, call: ToolCallRecord) -> None:
        self.calls.append(call)


def stdio(name: str = "files", **options: Any) -> dict[str, Any]:
    """A config entry launching tests/tools/mcp_server.py over stdio."""
    entry = {"name": name, "command": sys.executable, "args": ["-m", "tests.tools.mcp_server"]}
    return {**entry, "cwd": str(ROOT), **options}


async def quiet(text: str) -> None:
    return None


class Bot:
    """Live MCP tools in a ToolBox, and a scripted model that calls one tool as told; the
    person answers any question with `allow`."""

    def __init__(self, specs: list[ToolSpec], *, allow: bool = False) -> None:
        self.allow = allow
        self.asked: list[tuple[str, dict[str, object]]] = []
        self.calls = RecordingCallLog()
        self.box = ToolBox(
            specs,
            http=httpx.AsyncClient(),
            notes=MemoryNotes(),
            settings=ToolSettings(),
            calls=self.calls,
        )
        self.seen: list[AgentInfo] = []

    async def call(self, tool: str, arguments: dict[str, Any], *, caller: Caller = MEMBER) -> str:
        """What the model reads back after calling `tool` with `arguments`."""

        async def model(
            messages: list[ModelMessage], info: AgentInfo
        ) -> AsyncIterator[str | DeltaToolCalls]:
            self.seen.append(info)
            if len(messages) == 1:
                yield {0: DeltaToolCall(name=tool, json_args=json.dumps(arguments))}
                return
            request = messages[-1]
            assert isinstance(request, ModelRequest)
            returned = [p for p in request.parts if isinstance(p, ToolReturnPart)]
            yield returned[0].model_response_str()

        runner = ModelRunner(
            ModelCatalog.of({"m": FunctionModel(stream_function=model)}), toolbox=self.box
        )
        turn = {"caller": caller, "preferences": Preferences(), "on_text": quiet}
        completion = await runner.complete(
            Prompt(system="s", history=(), message="go"), on_status=quiet, **turn
        )
        if completion.parked is not None:
            self.asked.append((completion.parked.tool, completion.parked.arguments))
            completion = await runner.resume(
                completion.parked, allowed=self.allow, on_status=quiet, **turn
            )
        return completion.text


async def test_stdio_tools_reach_the_model_with_prefixed_names_and_schemas() -> None:
    async with connect_mcp_servers(json.dumps([stdio()])) as specs:
        bot = Bot(specs)
        assert "HELLO" in await bot.call("files__shout", {"text": "hello"})

    seen = {tool.name: tool for tool in bot.seen[0].function_tools}
    assert set(seen) == {
        "files__add",
        "files__shout",
        "files__delete_everything",
        "files__boom",
        "files__hang",
        "files__crash",
    }
    add = seen["files__add"]
    assert add.description == "files: Add two integers."
    assert add.parameters_json_schema["properties"]["a"]["type"] == "integer"
    assert add.parameters_json_schema["required"] == ["a", "b"]
    spec = {spec.name: spec for spec in specs}["files__add"]
    assert (spec.source, spec.status, spec.access) == ("mcp:files", "asking files…", Access.ANYONE)


async def test_read_only_tool_runs_without_confirmation() -> None:
    async with connect_mcp_servers(json.dumps([stdio()])) as specs:
        bot = Bot(specs)
        answer = await bot.call("files__add", {"a": 2, "b": 40})

    assert re.search(r'<tool_result tool="files__add" trust="untrusted">\n42\n', answer)
    assert bot.asked == []
    assert [(c.tool, c.outcome) for c in bot.calls.calls] == [("files__add", "ok")]


async def test_side_effecting_tool_does_not_run_when_declined(tmp_path: Path) -> None:
    marker = tmp_path / "deleted"
    async with connect_mcp_servers(json.dumps([stdio(env={MARKER: str(marker)})])) as specs:
        bot = Bot(specs, allow=False)
        answer = await bot.call("files__delete_everything", {"confirm": True})

    assert answer == "Olena did not allow files__delete_everything; it was not done."
    assert bot.asked == [("files__delete_everything", {"confirm": True})]
    assert [c.outcome for c in bot.calls.calls] == ["declined"]
    assert not marker.exists()


async def test_side_effecting_tool_runs_once_allowed(tmp_path: Path) -> None:
    marker = tmp_path / "deleted"
    async with connect_mcp_servers(json.dumps([stdio(env={MARKER: str(marker)})])) as specs:
        bot = Bot(specs, allow=True)
        answer = await bot.call("files__delete_everything", {"confirm": True})

    assert "everything is gone" in answer
    assert len(bot.asked) == 1
    assert marker.read_text() == "deleted confirm=True\n"


async def test_chat_admins_server_refuses_members_and_records_it(tmp_path: Path) -> None:
    marker = tmp_path / "deleted"
    config = stdio(access="chat_admins", confirm="never", env={MARKER: str(marker)})
    async with connect_mcp_servers(json.dumps([config])) as specs:
        bot = Bot(specs)
        refused = await bot.call("files__delete_everything", {"confirm": True}, caller=MEMBER)
        allowed = await bot.call("files__add", {"a": 1, "b": 1}, caller=ADMIN)

    assert refused.startswith("Not allowed: files__delete_everything can only be used by")
    assert not marker.exists()
    assert "2" in allowed
    outcomes = [(c.user_id, c.tool, c.outcome) for c in bot.calls.calls]
    assert outcomes == [(42, "files__delete_everything", "refused"), (7, "files__add", "ok")]
    assert bot.asked == []


async def test_failures_come_back_as_text_the_model_can_read() -> None:
    async with connect_mcp_servers(json.dumps([stdio(timeout=0.5)])) as specs:
        bot = Bot(specs)
        boom = await bot.call("files__boom", {})
        hang = await bot.call("files__hang", {})
        still_fine = await bot.call("files__add", {"a": 1, "b": 2})

    assert "the files tool failed: Error executing tool boom" in boom
    assert 'trust="untrusted"' in boom  # the server's words are data for the model
    assert "the files tool failed: no answer within 0.5 s" in hang
    assert "\n3\n" in still_fine
    assert [c.outcome for c in bot.calls.calls] == ["error", "error", "ok"]


async def test_a_dead_server_fails_calls_instead_of_raising() -> None:
    async with connect_mcp_servers(json.dumps([stdio()])) as specs:
        bot = Bot(specs)
        crashed = await bot.call("files__crash", {})
        after = await bot.call("files__add", {"a": 1, "b": 2})

    assert "the files tool failed: the server has stopped" in crashed
    assert "the files tool failed:" in after


async def test_one_client_serves_concurrent_calls() -> None:
    async with connect_mcp_servers(json.dumps([stdio()])) as specs:
        add = {spec.name: spec for spec in specs}["files__add"]
        _, deps = Bot(specs).box.for_turn(MEMBER)
        calls = RecordingCallLog()
        answers = await asyncio.gather(
            *(run_tool(add, deps, {"a": n, "b": 1000}, calls=calls) for n in range(8))
        )

    assert [re.findall(r"\n(\d+)\n", str(answer)) for answer in answers] == [
        [str(n + 1000)] for n in range(8)
    ]


async def test_closing_stops_the_stdio_server(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    async with connect_mcp_servers(json.dumps([stdio(env={PIDFILE: str(pidfile)})])) as specs:
        pid = int(pidfile.read_text())
        assert running(pid)
        add = {spec.name: spec for spec in specs}["files__add"]

    assert not running(pid)
    with pytest.raises(ToolFailure, match=r"^the files tool failed: the server is not running$"):
        await add.function(None, a=1, b=2)


async def test_streamable_http_transport_with_headers() -> None:
    with http_server() as (url, recorder):
        config = {"name": "search", "url": url, "headers": {"X-Magpie-Key": "s3cret"}}
        async with connect_mcp_servers(json.dumps([config])) as specs:
            bot = Bot(specs)
            answer = await bot.call("search__shout", {"text": "over http"})

    assert "OVER HTTP" in answer
    assert {h.get("x-magpie-key") for h in recorder.headers} == {"s3cret"}


async def test_servers_that_cannot_start_are_skipped(tmp_path: Path) -> None:
    missing = {"name": "missing", "command": str(tmp_path / "no-such-server")}
    quits = {"name": "quits", "command": sys.executable, "args": ["-c", "raise SystemExit(1)"]}
    with capture_logs() as logs:
        async with connect_mcp_servers(json.dumps([missing, quits, stdio()])) as specs:
            bot = Bot(specs)
            answer = await bot.call("files__add", {"a": 20, "b": 22})

    assert {spec.source for spec in specs} == {"mcp:files"}
    assert "\n42\n" in answer
    unavailable = [entry for entry in logs if entry["event"] == "mcp.unavailable"]
    assert sorted(entry["server"] for entry in unavailable) == ["missing", "quits"]


async def test_a_server_that_never_answers_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(magpie.tools.mcp, "START_SECONDS", 0.5)
    mute = {"name": "mute", "command": sys.executable, "args": ["-c", MUTE]}
    with capture_logs() as logs:
        async with connect_mcp_servers(json.dumps([mute])) as specs:
            assert specs == []
    assert [entry["server"] for entry in logs if entry["event"] == "mcp.unavailable"] == ["mute"]


async def test_servers_can_be_closed_from_another_task() -> None:
    """A dishka APP-scope generator may be finalised by a different task than opened it."""
    servers = connect_mcp_servers(json.dumps([stdio()]))
    specs = await asyncio.create_task(servers.__aenter__())
    add = {spec.name: spec for spec in specs}["files__add"]
    assert await add.function(None, a=1, b=2) == "3"
    await asyncio.create_task(servers.__aexit__(None, None, None))
    with pytest.raises(ToolFailure, match="not running"):
        await add.function(None, a=1, b=2)


async def test_allow_list_and_confirm_override_what_the_server_says() -> None:
    config = stdio(tools=["add", "delete_everything"], confirm="always")
    async with connect_mcp_servers(json.dumps([config])) as specs:
        effects = {spec.name: spec.side_effects for spec in specs}
    assert effects == {"files__add": True, "files__delete_everything": True}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{not json", "not JSON"),
        ('{"name": "x"}', "expected a JSON list"),
        ('["files"]', "server 1 is not a JSON object"),
        ('[{"name": "files"}]', 'give either "command" (stdio) or "url"'),
        ('[{"name": "f", "command": "x", "url": "http://h/mcp"}]', "give either"),
        ('[{"name": "f", "url": "ftp://h"}]', '"url": String should match'),
        ('[{"name": "f", "command": "x", "timeout": 0}]', '"timeout": Input should be greater'),
        ('[{"name": "f", "command": "x", "access": "root"}]', '"access": Input should be'),
        ('[{"name": "f", "command": "x", "confirm": "maybe"}]', '"confirm": Input should be'),
        ('[{"name": "f", "command": "x", "comand": "y"}]', '"comand": unknown key'),
        ('[{"name": "a b", "command": "x"}]', 'server 1 ("a b"): "name"'),
        ('[{"name": "f", "command": "x"}, {"name": "f", "url": "http://h"}]', "two servers"),
    ],
)
def test_bad_config_is_one_line_naming_mcp_servers(raw: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_mcp_servers(raw)
    message = str(error.value)
    assert message.startswith("MCP_SERVERS is invalid: ")
    assert problem in message
    assert "\n" not in message


async def test_bad_config_stops_the_start() -> None:
    with pytest.raises(ConfigError, match="MCP_SERVERS"):
        async with connect_mcp_servers("[{]"):
            pass


def test_secrets_in_config_are_not_repeated_in_errors() -> None:
    raw = '[{"name": "f", "url": "http://h", "headers": {"Authorization": ["Bearer s3cret"]}}]'
    with pytest.raises(ConfigError) as error:
        parse_mcp_servers(raw)
    assert '"headers.Authorization": Input should be a valid string' in str(error.value)
    assert "s3cret" not in str(error.value)


def test_tool_names_fit_what_model_apis_accept() -> None:
    assert tool_name("files", "read.file v2") == "files__read_file_v2"
    long = tool_name("server", "x" * 100)
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", long)
    assert long != tool_name("server", "x" * 101)


def test_results_become_text_with_placeholders() -> None:
    image = ImageContent(data="AAAA", mime_type="image/png")
    mixed = CallToolResult(content=[TextContent(text="a chart:"), image])
    assert result_text(mixed) == "a chart:\n[image, image/png]"
    structured = CallToolResult(content=[], structured_content={"temp": 21.5, "city": "Київ"})
    assert result_text(structured) == '{"temp": 21.5, "city": "Київ"}'
