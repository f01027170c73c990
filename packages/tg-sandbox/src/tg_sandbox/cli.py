"""The `tg-sandbox` command: serve the sandbox, print its URL and tokens, stop on Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from tg_sandbox.control import BotSpec, new_token
from tg_sandbox.flood import FloodPolicy
from tg_sandbox.sandbox import Sandbox


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tg-sandbox",
        description="A local Telegram Bot API server with a web chat page, all offline.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        help="a bot token to serve (repeatable); one is generated when none is given",
    )
    parser.add_argument("--username", default="magpie_bot", help="username of the first bot")
    parser.add_argument("--flood", choices=("telegram", "off"), default="telegram")
    return parser


def _bots(tokens: list[str], username: str) -> list[BotSpec]:
    """One bot per token: the first is `username`, the next `username2`, `username3`…"""
    return [
        BotSpec(token, username if i == 0 else f"{username}{i + 1}")
        for i, token in enumerate(tokens or [new_token()])
    ]


def _until_signal() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(args: argparse.Namespace) -> None:
    """Run until SIGINT/SIGTERM; the first lines printed say where and with which token."""
    specs = _bots(args.token, args.username)
    sandbox = Sandbox(
        bots=specs, flood=FloodPolicy.named(args.flood), host=args.host, port=args.port
    )
    async with sandbox:
        print(f"Telegram sandbox listening on {sandbox.url}")
        print(f"  TELEGRAM_API_URL={sandbox.url}")
        for spec in specs:
            print(f"  TELEGRAM_BOT_TOKEN={spec.token}   (@{spec.username})")
        print(f"  web chat: {sandbox.url}/   control API: {sandbox.url}/sandbox/api/state")
        sys.stdout.flush()
        await _until_signal().wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 130
    except OSError as error:  # the port is taken, the host cannot be bound
        print(f"tg-sandbox: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0
