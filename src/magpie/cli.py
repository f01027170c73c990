"""The `magpie` command: sandbox, run, migrate, demo."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from magpie.sandbox import BotSpec, FloodPolicy, Sandbox, new_token


def _sandbox_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("sandbox", help="run the local Telegram Bot API sandbox")
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


async def _serve_sandbox(args: argparse.Namespace) -> None:
    tokens = args.token or [new_token()]
    specs = [
        BotSpec(token, args.username if i == 0 else f"{args.username}{i + 1}")
        for i, token in enumerate(tokens)
    ]
    sandbox = Sandbox(
        bots=specs, flood=FloodPolicy.named(args.flood), host=args.host, port=args.port
    )
    async with sandbox:
        print(f"Telegram sandbox listening on {sandbox.url}")
        print(f"  TELEGRAM_API_URL={sandbox.url}")
        for spec in specs:
            print(f"  TELEGRAM_BOT_TOKEN={spec.token}   (@{spec.username})")
        print(f"  control API: {sandbox.url}/sandbox/api/state")
        sys.stdout.flush()
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="magpie", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _sandbox_parser(sub)
    args = parser.parse_args(argv)
    try:
        if args.command == "sandbox":
            asyncio.run(_serve_sandbox(args))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
