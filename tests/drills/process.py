"""Magpie's runs as processes: started (forked by the launcher, or spawned), their JSON log
lines read as they come, and ended with SIGKILL or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

LOG_LINE_LIMIT = 16 * 1024 * 1024  # one JSON line can carry a long traceback
LAUNCHER = Path(__file__).with_name("launcher.py")
SPAWN = "MAGPIE_DRILLS_SPAWN"  # set to 1: each run a fresh `python -m magpie.cli run`


class Wakeup:
    """Set whenever something a drill may wait for happened outside the sandbox (a log line)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def poke(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        await self._event.wait()
        self._event.clear()


class Launcher:
    """Starts Magpie runs: forked by tests/drills/launcher.py, which has imported Magpie once
    (importing costs ~8 s of CPU here, and a drill starts Magpie several times), or, with
    MAGPIE_DRILLS_SPAWN=1, spawned afresh as `python -m magpie.cli run`."""

    def __init__(self, *, spawn: bool | None = None) -> None:
        self.spawn = os.environ.get(SPAWN, "") not in ("", "0") if spawn is None else spawn
        self._forker: subprocess.Popen[str] | None = None

    def fork(self, request: dict[str, object]) -> None:
        if self._forker is None:
            self._forker = subprocess.Popen(  # noqa: S603 (our interpreter, our script)
                [sys.executable, str(LAUNCHER)], stdin=subprocess.PIPE, text=True
            )
        assert self._forker.stdin is not None
        self._forker.stdin.write(json.dumps(request) + "\n")
        self._forker.stdin.flush()

    def close(self) -> None:
        if self._forker is not None:
            assert self._forker.stdin is not None
            self._forker.stdin.close()
            self._forker.wait(30)
            self._forker = None


class MagpieProcess:
    """One run of `magpie run`: its JSON log lines as they come, and ways to end it."""

    def __init__(
        self,
        name: str,
        logs: asyncio.StreamReader,
        log: TextIO,
        wakeup: Wakeup,
        *,
        child: asyncio.subprocess.Process | None = None,
    ) -> None:
        self.name = name
        self.pid = child.pid if child is not None else 0
        self.lines: list[dict[str, Any]] = []
        self.killed = False
        self._child = child
        self._logs = logs
        self._log = log
        self._wakeup = wakeup
        self._ended = False
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls,
        name: str,
        *,
        env: dict[str, str],
        cwd: Path,
        wakeup: Wakeup,
        launcher: Launcher,
        within: float = 180.0,
    ) -> MagpieProcess:
        log = (cwd / f"{name}.log").open("w", encoding="utf-8")
        if launcher.spawn:
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "magpie.cli",
                "run",
                env=env,
                cwd=cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                limit=LOG_LINE_LIMIT,
            )
            assert child.stderr is not None
            return cls(name, child.stderr, log, wakeup, child=child)
        connected: asyncio.Future[asyncio.StreamReader] = asyncio.get_running_loop().create_future()

        def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if not connected.done():
                connected.set_result(reader)

        # Unix socket paths are short (108 bytes): keep them out of pytest's long tmp paths.
        path = Path(tempfile.mkdtemp(prefix="drill-")) / "logs.sock"
        server = await asyncio.start_unix_server(accept, path=path, limit=LOG_LINE_LIMIT)
        try:
            launcher.fork({"socket": str(path), "cwd": str(cwd), "env": env})
            async with asyncio.timeout(within):
                logs = await connected
                first = json.loads(await logs.readline())
        finally:
            server.close()
            path.unlink(missing_ok=True)
            path.parent.rmdir()
        run = cls(name, logs, log, wakeup)
        run.pid = int(first["pid"])
        return run

    async def _read(self) -> None:
        try:
            async for raw in self._logs:
                text = raw.decode(errors="replace").rstrip("\n")
                self._log.write(text + "\n")
                try:
                    line = json.loads(text)
                except ValueError:
                    line = {"event": "(not json)", "text": text}
                self.lines.append(line if isinstance(line, dict) else {"event": str(line)})
                self._wakeup.poke()
        finally:
            if self._child is not None:
                await self._child.wait()
            self._ended = True
            self._log.close()
            self._wakeup.poke()

    @property
    def exited(self) -> bool:
        """Gone: its end of the log stream closed when it died (or it was reaped)."""
        return self._ended

    @property
    def returncode(self) -> int | None:
        """How it ended: its exit code, -9 when killed, None while it runs (or if it died
        without saying)."""
        if self._child is not None:
            return self._child.returncode
        said = self.events("drill.exit")
        if said:
            return int(said[-1]["code"])
        return -signal.SIGKILL if self.killed and self._ended else None

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == name]

    def logged(self, name: str) -> bool:
        return any(line.get("event") == name for line in self.lines)

    def _signal(self, number: int) -> None:
        if not self.exited:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)

    async def kill(self) -> None:
        """kill -9: no handler runs, no buffer is flushed, nothing is finished."""
        if not self.exited:
            self.killed = True
        self._signal(signal.SIGKILL)
        await self._reader

    async def terminate(self, *, within: float) -> bool:
        """SIGTERM, as an orchestrator stops a container; False if it was still running after
        `within` seconds (it is then killed, so the drill can go on)."""
        self._signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(within):
                await asyncio.shield(self._reader)
        except TimeoutError:
            await self.kill()
            return False
        return True
