"""Tools from MCP servers, offered to the model under the same rules as the built-in ones.

The servers come from MCP_SERVERS, a JSON list of objects (see `magpie.tools.mcp_config` and
docs/tools.md): `{"name": "files", "command": "python", "args": ["-m", "x"], "env": {…}}` for
stdio or `{"name": "search", "url": "http://host:port/mcp", "headers": {…}}` for streamable
HTTP, each with optional `access`, `confirm`, `tools` and `timeout`. Each server's tools become
ToolSpecs named `<server>__<tool>`; a server that cannot start is logged and skipped.

The `mcp` SDK (~60 MB resident) is imported only when a server is configured.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING

import httpx2
import structlog

from magpie.tools.deps import ToolDeps
from magpie.tools.mcp_config import McpServerConfig, parse_mcp_servers
from magpie.tools.spec import ToolFailure, ToolFunction, ToolSpec

if TYPE_CHECKING:
    from mcp import Client
    from mcp.types import Tool

__all__ = ["McpServerConfig", "connect_mcp_servers", "parse_mcp_servers", "tool_name"]

log = structlog.get_logger(__name__)
START_SECONDS = 60.0  # to launch (or reach) a server and list its tools
STOP_SECONDS = 10.0
MAX_PAGES = 20


@asynccontextmanager
async def connect_mcp_servers(raw: str) -> AsyncIterator[list[ToolSpec]]:
    """Connect to every server in MCP_SERVERS and yield their tools; closing closes them all."""
    servers = [McpServer(config) for config in parse_mcp_servers(raw)]
    try:
        listed = await asyncio.gather(*(server.start() for server in servers))
        specs: dict[str, ToolSpec] = {}
        for spec in (spec for tools in listed for spec in tools):
            if spec.name in specs:
                log.warning("mcp.duplicate_tool", tool=spec.name, source=spec.source)
                continue
            specs[spec.name] = spec
        yield list(specs.values())
    finally:
        await asyncio.gather(*(server.close() for server in servers))


class McpServer:
    """One configured server, kept connected by its own task, so any task may close it."""

    def __init__(self, config: McpServerConfig) -> None:
        self.config = config
        self.client: Client | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> list[ToolSpec]:
        """Connect and list the tools; a server that fails is logged and offers none."""
        ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._keep(ready), name=f"mcp:{self.config.name}")
        try:
            self.client = await asyncio.wait_for(ready, START_SECONDS)
            tools = await self._list_tools(self.client)
        except Exception as error:
            log.warning("mcp.unavailable", server=self.config.name, error=describe(error))
            await self.close()
            return []
        log.info("mcp.connected", server=self.config.name, tools=len(tools))
        return [self._spec(tool) for tool in tools]

    async def close(self) -> None:
        """Stop the client (a stdio server's process exits); safe to call more than once."""
        self._stop.set()
        task = self._task
        if task is None or task.done():
            return
        if self.client is None:  # still connecting: nothing to finish politely
            task.cancel()
        _, pending = await asyncio.wait({task}, timeout=STOP_SECONDS)
        if pending:
            task.cancel()
            await asyncio.wait({task})

    async def _keep(self, ready: asyncio.Future[Client]) -> None:
        try:
            async with AsyncExitStack() as stack:
                client = await stack.enter_async_context(await self._client(stack))
                ready.set_result(client)
                await self._stop.wait()
        except Exception as error:
            if not ready.done():
                ready.set_exception(error)
            elif not self._stop.is_set():
                log.warning("mcp.lost", server=self.config.name, error=describe(error))
        finally:
            if not ready.done():
                ready.set_exception(RuntimeError("the connection ended before it was ready"))

    async def _client(self, stack: AsyncExitStack) -> Client:
        from mcp import Client, StdioServerParameters
        from mcp.client.streamable_http import streamable_http_client
        from mcp.types import Implementation

        config = self.config
        info = Implementation(name="magpie", version=magpie_version())
        if config.url is None:
            assert config.command is not None
            stdio = StdioServerParameters(
                command=config.command, args=list(config.args), env=config.env, cwd=config.cwd
            )
            return Client(stdio, read_timeout_seconds=config.timeout, client_info=info)
        timeouts = httpx2.Timeout(30.0, read=300.0)  # the SDK's defaults; calls have their own
        http = httpx2.AsyncClient(headers=config.headers, timeout=timeouts)
        await stack.enter_async_context(http)
        transport = streamable_http_client(config.url, http_client=http)
        return Client(transport, read_timeout_seconds=config.timeout, client_info=info)

    async def _list_tools(self, client: Client) -> list[Tool]:
        tools: list[Tool] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        wanted = self.config.tools
        if wanted is None:
            return tools
        if missing := sorted(set(wanted) - {tool.name for tool in tools}):
            log.warning("mcp.missing_tools", server=self.config.name, tools=missing)
        return [tool for tool in tools if tool.name in wanted]

    def _spec(self, tool: Tool) -> ToolSpec:
        server = self.config.name
        read_only = tool.annotations is not None and tool.annotations.read_only_hint is True
        confirm = self.config.confirm
        return ToolSpec(
            name=tool_name(server, tool.name),
            description=f"{server}: {tool.description or tool.title or tool.name}",
            function=self._caller(tool.name),
            parameters=tool.input_schema,
            access=self.config.access,
            side_effects=confirm == "always" or (confirm == "auto" and not read_only),
            status=f"asking {server}…",
            source=f"mcp:{server}",
        )

    def _caller(self, tool: str) -> ToolFunction:
        async def call(_deps: ToolDeps, /, **arguments: object) -> str:
            answer = await self._call(tool, arguments)
            if answer.ok:
                return answer.text
            log.warning("mcp.call_failed", server=self.config.name, tool=tool, error=answer.text)
            raise ToolFailure(f"the {self.config.name} tool failed: {answer.text}")

        return call

    async def _call(self, tool: str, arguments: dict[str, object]) -> Answer:
        from mcp import MCPError
        from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        from magpie.tools.mcp_results import result_text

        if self.client is None or self._task is None or self._task.done():
            return Answer(False, "the server is not running")
        timeout = self.config.timeout
        try:
            result = await self.client.call_tool(tool, arguments, read_timeout_seconds=timeout)
        except MCPError as error:
            if error.code == REQUEST_TIMEOUT:
                return Answer(False, f"no answer within {timeout:g} s")
            if error.code == CONNECTION_CLOSED:
                return Answer(False, "the server has stopped")
            return Answer(False, error.message[:500])
        except Exception as error:
            return Answer(False, describe(error))
        text = result_text(result)
        if result.is_error:
            return Answer(False, text[:500] or "no details")
        return Answer(True, text or "(no output)")


@dataclass(frozen=True, slots=True)
class Answer:
    """A call's text: the result when `ok`, otherwise why it failed."""

    ok: bool
    text: str


def tool_name(server: str, tool: str) -> str:
    """`<server>__<tool>`, cut to what model APIs accept: ^[a-zA-Z0-9_-]{1,64}$."""
    full = f"{server}__{tool}"
    name = re.sub(r"[^A-Za-z0-9_-]", "_", full)
    if len(name) > 64:
        name = f"{name[:55]}_{hashlib.sha256(full.encode()).hexdigest()[:8]}"
    return name


def magpie_version() -> str:
    """Magpie's installed version, which servers see as the client's."""
    try:
        return metadata.version("magpie")
    except metadata.PackageNotFoundError:
        return "unknown"


def describe(error: BaseException) -> str:
    """One short line for an error, looking inside the task groups the SDK raises from."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}"[:300]
