"""A TCP proxy between Magpie and its PostgreSQL server that can go away and come back.

During an outage the listening socket is closed (new connections are refused, as by a server
that is down) and every open connection is reset; `restore` listens on the same port again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

CHUNK = 64 * 1024


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `target`; `outage()` refuses and drops until restored."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0  # accepted while up, for the drill's report
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        await self.restore()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop_listening()
        self._reset_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def up(self) -> bool:
        return self._server is not None

    async def restore(self) -> None:
        """Listen (again, on the same port once it has one)."""
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]

    def outage(self) -> None:
        """The server is gone: connecting is refused, open connections are reset."""
        self._stop_listening()
        self._reset_all()

    @contextlib.asynccontextmanager
    async def down(self) -> AsyncIterator[None]:
        """An outage for as long as the block runs."""
        self.outage()
        try:
            yield
        finally:
            await self.restore()

    def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _reset_all(self) -> None:
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        if not self.up:  # the outage began while connecting
            client_w.transport.abort()
            server_w.transport.abort()
            return
        self.connections += 1
        self._open |= {client_w, server_w}
        pumps = [
            asyncio.ensure_future(self._pump(client_r, server_w)),
            asyncio.ensure_future(self._pump(server_r, client_w)),
        ]
        for pump in pumps:
            self._tasks.add(pump)
            pump.add_done_callback(self._tasks.discard)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for writer in (client_w, server_w):
            self._open.discard(writer)
            writer.transport.abort()
        for pump in pumps:
            pump.cancel()

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
