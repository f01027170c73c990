"""A real MCP server for tests: `python -m tests.tools.mcp_server` (stdio), or HTTP in a thread."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from starlette.types import ASGIApp, Receive, Scope, Send

READ_ONLY = ToolAnnotations(read_only_hint=True)
MARKER = "MCP_TEST_MARKER"  # a file delete_everything appends to, so tests can see it ran
PIDFILE = "MCP_TEST_PIDFILE"  # where the stdio server writes its process id at start


def build_server() -> MCPServer:
    """The test tools: two read-only, one with side effects, and a few that go wrong."""
    server = MCPServer("magpie-test")

    @server.tool(annotations=READ_ONLY)
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool(annotations=READ_ONLY)
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    @server.tool()
    def delete_everything(confirm: bool) -> str:
        """Delete everything (side effects: writes to the marker file)."""
        marker = os.environ.get(MARKER)
        if marker:
            with Path(marker).open("a") as file:
                file.write(f"deleted confirm={confirm}\n")
        return "everything is gone"

    @server.tool(annotations=READ_ONLY)
    def boom() -> str:
        """Always fails."""
        raise RuntimeError("kaboom")

    @server.tool(annotations=READ_ONLY)
    async def hang() -> str:
        """Never answers (for timeouts)."""
        await asyncio.Event().wait()
        return "unreachable"

    @server.tool(annotations=READ_ONLY)
    def crash() -> str:
        """Kills the server process mid-call (for a dead server)."""
        os._exit(3)

    return server


class HeaderRecorder:
    """ASGI middleware that keeps the headers of every request (to check configured headers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await self.app(scope, receive, send)


@contextmanager
def http_server() -> Iterator[tuple[str, HeaderRecorder]]:
    """Serve the test tools over streamable HTTP on a free port in a thread; yield URL, headers."""
    app = HeaderRecorder(build_server().streamable_http_app())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    sock.listen()  # clients that connect before uvicorn is up wait in the backlog
    thread = threading.Thread(target=asyncio.run, args=(server.serve(sockets=[sock]),), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/mcp", app
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


if __name__ == "__main__":
    if pidfile := os.environ.get(PIDFILE):
        Path(pidfile).write_text(str(os.getpid()))
    build_server().run("stdio")
