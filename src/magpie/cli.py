"""The `magpie` command: run, migrate, demo, billing."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from magpie.config import ConfigError, Settings, load_settings
from magpie.observability.logging import configure_logging


class SubParsers(Protocol):
    """What `ArgumentParser.add_subparsers()` returns, as far as this module uses it."""

    def add_parser(self, name: str, **options: Any) -> argparse.ArgumentParser: ...


def _add_commands(sub: SubParsers) -> None:
    sub.add_parser("run", help="run the bot (long polling, or a webhook when WEBHOOK_URL is set)")
    migrate = sub.add_parser("migrate", help="apply database migrations (or undo them)")
    migrate.add_argument("--downgrade", metavar="REVISION", help="undo down to REVISION (base)")
    demo = sub.add_parser("demo", help="sandbox + Magpie + web chat page, all offline")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    from magpie.billing_cli import add_billing_commands

    add_billing_commands(sub.add_parser("billing", help="balances, ledger, grants, reconcile"))


def _until_signal() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _run() -> None:
    settings = load_settings()  # first: a bad setting is reported before the heavy imports
    import magpie.app  # noqa: F401 (then the imports, whose set-up chatter is not logged)

    configure_logging(settings.log_level, settings.log_format)
    await serve_until(settings, stop=_until_signal())


async def serve_until(settings: Settings, *, stop: asyncio.Event) -> None:
    """What `magpie run` does once configured: start Magpie, tune the collector, serve."""
    from magpie.app import running, serve
    from magpie.collector import tuned_for_serving

    async with running(settings) as runtime:
        with tuned_for_serving() if settings.gc_tuning else contextlib.nullcontext():
            await serve(runtime, stop=stop)


async def _migrate(downgrade_to: str | None) -> None:
    settings = load_settings()
    from magpie.storage.database import start_up_engine
    from magpie.storage.migrate import downgrade, pending, upgrade

    async with start_up_engine(
        settings.sqlalchemy_url, setting=settings.database_setting
    ) as engine:
        if downgrade_to:
            await downgrade(engine, downgrade_to)
            print(f"Downgraded to {downgrade_to}.")
            return
        todo = await pending(engine)
        await upgrade(engine)
        print(f"Applied {len(todo)} migration(s)." if todo else "The database is up to date.")


async def _demo(args: argparse.Namespace) -> None:
    from magpie.demo import run_demo

    await run_demo(host=args.host, port=args.port, data_dir=Path("data"), stop=_until_signal())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="magpie", description="Magpie, an AI assistant for Telegram."
    )
    _add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            asyncio.run(_run())
        elif args.command == "migrate":
            asyncio.run(_migrate(args.downgrade))
        elif args.command == "demo":
            asyncio.run(_demo(args))
        elif args.command == "billing":
            from magpie.billing_cli import run_billing

            if argv is None:  # a real command line: logs to stderr, stdout for the output
                configure_logging("WARNING", load_settings().log_format)
            return asyncio.run(run_billing(args))
    except ConfigError as error:
        print(f"magpie: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
