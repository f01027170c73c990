"""MCP_SERVERS: the MCP servers whose tools Magpie offers, parsed and checked once at start.

MCP_SERVERS is a JSON list with one object per server (docs/tools.md, "MCP servers"):

    [{"name": "files", "command": "python", "args": ["-m", "x"], "env": {"ROOT": "/srv"}},
     {"name": "search", "url": "http://host:port/mcp", "headers": {"Authorization": "Bearer …"}}]

A server has either `command` (stdio: optional `args`, `env`, `cwd`) or `url` (streamable HTTP:
optional `headers`). Every server may also set `access` ("anyone", "chat_admins" or
"bot_admins"; default "anyone"), `confirm` ("auto": ask unless the server marks the tool
read-only; "always"; "never"; default "auto"), `tools` (an allow-list of tool names) and
`timeout` (seconds per call, default 30).
"""

from __future__ import annotations

import json
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from magpie.config import ConfigError
from magpie.tools.spec import Access

Confirm = Literal["auto", "always", "never"]


class McpServerConfig(BaseModel):
    """One MCP server: how to reach it, and who may use its tools with what confirmation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    command: str | None = Field(default=None, min_length=1)
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = Field(default=None, pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    access: Access = Access.ANYONE
    confirm: Confirm = "auto"
    tools: tuple[str, ...] | None = None
    timeout: float = Field(default=30.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _one_transport(self) -> Self:
        if (self.command is None) == (self.url is None):
            raise ValueError('give either "command" (stdio) or "url" (streamable HTTP)')
        if self.url is not None and (self.args or self.env or self.cwd):
            raise ValueError('"args", "env" and "cwd" are for "command" servers')
        if self.command is not None and self.headers:
            raise ValueError('"headers" are for "url" servers')
        return self


def parse_mcp_servers(raw: str) -> list[McpServerConfig]:
    """The servers listed in MCP_SERVERS; anything wrong is one ConfigError line naming it."""
    try:
        items = json.loads(raw or "[]")
    except json.JSONDecodeError as error:
        raise ConfigError(f"MCP_SERVERS is invalid: not JSON ({error})") from None
    if not isinstance(items, list):
        raise ConfigError("MCP_SERVERS is invalid: expected a JSON list of server objects")
    servers = [_server(number, item) for number, item in enumerate(items, start=1)]
    names = [server.name for server in servers]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f'MCP_SERVERS is invalid: two servers are named "{name}"')
    return servers


def _server(number: int, item: object) -> McpServerConfig:
    name = item.get("name") if isinstance(item, dict) else None
    where = f'server {number} ("{name}")' if isinstance(name, str) else f"server {number}"
    if not isinstance(item, dict):
        raise ConfigError(f"MCP_SERVERS is invalid: {where} is not a JSON object")
    try:
        return McpServerConfig.model_validate(item)
    except ValidationError as error:
        problem = error.errors()[0]  # messages only: values may be secrets (headers, env)
        field = ".".join(str(part) for part in problem["loc"])
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        prefix = f'"{field}": ' if field else ""
        raise ConfigError(f"MCP_SERVERS is invalid: {where}: {prefix}{message}") from None
