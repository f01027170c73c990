"""`tg-sandbox` starts a server and prints where it is and which token to use."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_cli_prints_base_url_and_token_and_serves_them() -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tg_sandbox",
        "--port",
        str(port),
        "--token",
        "7123456789:SANDBOX-cli",
        stdout=asyncio.subprocess.PIPE,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = []
        while len(lines) < 3:
            line = await asyncio.wait_for(process.stdout.readline(), 20)
            lines.append(line.decode())
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}" in text
        assert "TELEGRAM_BOT_TOKEN=7123456789:SANDBOX-cli" in text
        base = re.search(r"TELEGRAM_API_URL=(\S+)", text)
        assert base is not None
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{base.group(1)}/bot7123456789:SANDBOX-cli/getMe") as response,
        ):
            assert (await response.json())["result"]["username"] == "magpie_bot"
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 10)


async def test_a_taken_port_is_one_line_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tg_sandbox",
            "--port",
            str(port),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert out == b""
    lines = err.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"tg-sandbox: cannot listen on 127.0.0.1:{port}: ")
