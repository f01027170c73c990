"""The sandbox as one object: the control surface, served over HTTP with the Bot API and page."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Self

from aiohttp import web

from tg_sandbox.control import ControlSurface
from tg_sandbox.server import build_app


@dataclass
class Sandbox(ControlSurface):
    """A stateful Bot API server with a Python control surface; the same over HTTP."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port; `port` and `url` tell which once started

    def __post_init__(self) -> None:
        super().__post_init__()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        runner = web.AppRunner(
            build_app(self), access_log=None, handle_signals=False, shutdown_timeout=2.0
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = _port_of(runner.addresses, self.port)
        self.url = f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        await self.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _port_of(addresses: list[object], asked: int) -> int:
    """The port the server's socket got (the one asked for, unless that was 0)."""
    for address in addresses:
        if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[1], int):
            return address[1]
    return asked
