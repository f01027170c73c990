"""A database that goes away and comes back, for real: PostgreSQL behind a TCP proxy the test
cuts and restores, or SQLite with another process holding its write lock.

Cut, the proxy drops every open connection and refuses new ones (nothing listens on its port);
restored, it listens on the same port again and forwards to the same server.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.engine import make_url


class TcpProxy:
    """127.0.0.1:<port> → host:port, until `cut()`; again after `restore()`."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(
            self._link, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and reset the open ones, as a stopped server would."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links |= {writer, upstream_writer}
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            pump = asyncio.create_task(self._pump(source, sink))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            sink.transport.abort()
            self._links.discard(sink)


@contextlib.asynccontextmanager
async def proxied(database_url: str) -> AsyncIterator[tuple[str, TcpProxy]]:
    """A PostgreSQL URL that goes through a proxy the test controls, and the proxy."""
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.restore()
    try:
        yield (
            url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
            proxy,
        )
    finally:
        await proxy.cut()


@dataclass
class Outage:
    """Take the database away (`begin`) and give it back (`end`)."""

    begin: Callable[[], Awaitable[None]]
    end: Callable[[], Awaitable[None]]


@contextlib.asynccontextmanager
async def outages(database_url: str) -> AsyncIterator[tuple[str, Outage]]:
    """A URL of the same database for Magpie to use, and the switch that takes it away.

    PostgreSQL: connections refused and cut. SQLite: every write fails with "database is
    locked" once its busy timeout is over; reads go on (WAL), as with a stuck writer.
    """
    if make_url(database_url).get_backend_name() != "sqlite":
        async with proxied(database_url) as (url, proxy):
            yield url, Outage(proxy.cut, proxy.restore)
        return
    holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)

    async def lock() -> None:
        holder.execute("BEGIN EXCLUSIVE")

    async def unlock() -> None:
        holder.execute("ROLLBACK")

    try:
        yield database_url, Outage(lock, unlock)
    finally:
        holder.close()
