"""`magpie demo`: the sandbox, Magpie on embedded defaults, and the web chat page — offline."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from magpie.app import running, serve
from magpie.config import ConfigError, load_settings
from magpie.demo_scene import demo_scene
from magpie.observability.logging import configure_logging
from magpie.texts import ENGLISH

try:  # a development dependency: the product wheel does not bring it
    from tg_sandbox import BotSpec, FloodPolicy, Sandbox
except ModuleNotFoundError as missing:
    if missing.name != "tg_sandbox":
        raise
    raise ConfigError(ENGLISH.demo_needs_sandbox) from None

DEMO_TOKEN = "7000000001:SANDBOX-magpie-demo"  # noqa: S105 (the sandbox's own token)
# The offline model is free, except in the demo: there its answers cost a few credits, so a
# person sees what messages cost, runs out of the small free allowance after a handful, and
# can buy Stars in the sandbox (a bot admin — Ann — can refund them).
DEMO_BILLING: dict[str, Any] = {
    "billing_prices": '{"offline": {"input": 20000, "output": 200000}}',
    "billing_free_daily": 200,
    "billing_expected_output_tokens": 300,
}


async def run_demo(*, host: str, port: int, data_dir: Path, stop: asyncio.Event) -> None:
    """Start everything, print where to open it, and run until `stop` is set."""
    demo_dir = data_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)  # the sandbox starts empty, so does Magpie
    sandbox = Sandbox(
        bots=[BotSpec(DEMO_TOKEN, "magpie_bot", "Magpie")],
        flood=FloodPolicy.named("telegram"),
        host=host,
        port=port,
    )
    async with listening(sandbox):
        scene = demo_scene(sandbox, sandbox.bot())
        settings = load_settings(
            **DEMO_BILLING,
            bot_admins=str(scene.ann),
            telegram_bot_token=DEMO_TOKEN,
            telegram_api_url=sandbox.url,
            webhook_url=None,
            database_url=None,
            data_dir=demo_dir,
            log_format="console",
            log_level="WARNING",
        )
        configure_logging(settings.log_level, settings.log_format)
        async with running(settings) as runtime:
            print(
                f"\n  Magpie demo is running — open {sandbox.url}/ in your browser.\n"
                f"  Model: {settings.llm_model}; database: {settings.sqlalchemy_url}\n"
                f"  Bot API sandbox: {sandbox.url} (token {DEMO_TOKEN})\n"
                "  Billing: answers cost demo prices; 0.2 Stars free a day; /balance, /usage,\n"
                "  /buy (pay in the page); type as Ann, a bot admin, to /refund <charge id>.\n"
                "  Press Ctrl+C to stop.\n",
                flush=True,
            )
            sys.stdout.flush()
            await serve(runtime, stop=stop)


@contextlib.asynccontextmanager
async def listening(sandbox: Sandbox) -> AsyncIterator[Sandbox]:
    """The sandbox serving its page and Bot API; a port already taken is one line, not a trace."""
    try:
        await sandbox.start()
    except OSError as error:
        await sandbox.stop()
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {sandbox.port} is in use on {sandbox.host} (another demo?): stop it, "
                "or pass --port to use another"
            ) from None
        raise ConfigError(
            f"cannot listen on {sandbox.host}:{sandbox.port}: {error.strerror or error}"
        ) from None
    try:
        yield sandbox
    finally:
        await sandbox.stop()
