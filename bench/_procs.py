"""Benchmark plumbing: free ports, servers in their own processes, waiting until they listen."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence


def sandbox_command(
    port: int, token: str, *, flood: str = "off", more_tokens: Sequence[str] = ()
) -> list[str]:
    """Arguments to `python` that run the sandbox (flood control off unless `flood` is
    "telegram") for one bot token, or several (`more_tokens`: bots magpie_bot2, 3, …).

    The one place that knows how the sandbox starts: every benchmark goes through here.
    """
    tokens = [arg for extra in more_tokens for arg in ("--token", extra)]
    return ["-m", "tg_sandbox", "--port", str(port), "--token", token, *tokens, "--flood", flood]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int, *, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@contextlib.contextmanager
def process(args: Sequence[str], *, port: int, env: dict[str, str] | None = None) -> Iterator[None]:
    """Run `python args...` until the block ends; the block starts once `port` accepts."""
    child = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [sys.executable, *args],
        env=os.environ | (env or {}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_listening(port)
        yield
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
