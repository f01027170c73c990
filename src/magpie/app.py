"""Start and stop a whole Magpie: database ready, bot known, handlers wired, updates flowing."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import BotCommand, User
from aiohttp import web
from dishka import AsyncContainer, Provider

from magpie.config import ConfigError, Settings
from magpie.conversation.ports import Model
from magpie.conversation.turn import Assistant
from magpie.conversation.types import Identity
from magpie.di import build_container
from magpie.ingress.pipeline import UpdatePipeline
from magpie.ingress.polling import poll
from magpie.ingress.webhook import webhook_app
from magpie.observability.http import add_observability_routes
from magpie.observability.lag import LoopLag
from magpie.observability.metrics import Metrics
from magpie.storage.database import start_up_engine
from magpie.storage.inbox import Inbox
from magpie.storage.migrate import pending, upgrade
from magpie.telegram.bot import create_bot
from magpie.telegram.delivery import Delivery
from magpie.telegram.routers import build_dispatcher, wire_container
from magpie.texts import Texts
from magpie.tools.mcp_config import parse_mcp_servers

log = structlog.get_logger(__name__)


def bot_commands(texts: Texts) -> list[BotCommand]:
    """The command menu Telegram shows by the input field, in the bot's language."""
    return [
        BotCommand(command="new", description=texts.command_new),
        BotCommand(command="stop", description=texts.command_stop),
        BotCommand(command="retry", description=texts.command_retry),
        BotCommand(command="tools", description=texts.command_tools),
        BotCommand(command="model", description=texts.command_model),
        BotCommand(command="persona", description=texts.command_persona),
        BotCommand(command="balance", description=texts.command_balance),
        BotCommand(command="usage", description=texts.command_usage),
        BotCommand(command="buy", description=texts.command_buy),
        BotCommand(command="paysupport", description=texts.command_paysupport),
        BotCommand(command="help", description=texts.command_help),
    ]


async def prepare_database(settings: Settings) -> None:
    """Apply pending migrations, or refuse to start when AUTO_MIGRATE is off."""
    async with start_up_engine(
        settings.sqlalchemy_url, setting=settings.database_setting
    ) as engine:
        todo = await pending(engine)
        if todo and not settings.auto_migrate:
            raise ConfigError(
                f"the database needs {len(todo)} migration(s) ({', '.join(todo)}): "
                "run `magpie migrate`, or set AUTO_MIGRATE=true"
            )
        if todo:
            await upgrade(engine)
            log.info("database.migrated", revisions=todo)


async def identify(bot: Bot, settings: Settings) -> User:
    """getMe, with one clear line when the server is unreachable or refuses the token."""
    try:
        return await bot.get_me()
    except TelegramUnauthorizedError:
        raise ConfigError(
            f"TELEGRAM_BOT_TOKEN=*** was refused by {settings.telegram_api_url}: check the token"
        ) from None
    except TelegramNetworkError as error:
        raise ConfigError(
            f"TELEGRAM_API_URL={settings.telegram_api_url!r} cannot be reached: {error.message}"
        ) from None


QUESTION_SWEEP_SECONDS = 5.0


async def sweep_questions(assistant: Assistant, *, every: float = QUESTION_SWEEP_SECONDS) -> None:
    """Close questions nobody answered in time, now and then, for as long as Magpie runs."""
    while True:
        try:
            await assistant.expire_questions()
        except Exception:  # a database blip: try again next time
            log.warning("question.sweep_failed", exc_info=True)
        await asyncio.sleep(every)


async def finish_in_flight(pipeline: UpdatePipeline, grace: float) -> None:
    """Start no new turn; let those being written finish within `grace` seconds. What is cut
    off (or never started) stays pending in the inbox and is handled at the next start."""
    cut = await pipeline.queues.settle(grace)
    if cut:
        log.warning("magpie.shutdown_cut_short", still_running=cut, grace_seconds=grace)


@dataclass
class Runtime:
    """A running Magpie's parts, for the front doors (and for tests)."""

    settings: Settings
    bot: Bot
    dispatcher: Dispatcher
    container: AsyncContainer
    pipeline: UpdatePipeline
    identity: Identity


@contextlib.asynccontextmanager
async def running(
    settings: Settings, *, extra: list[Provider] | None = None
) -> AsyncIterator[Runtime]:
    """Everything but the front door: use `serve` for that."""
    parse_mcp_servers(settings.mcp_servers)  # a bad MCP_SERVERS stops us before anything else
    bot = create_bot(settings)  # and so does a bad token
    try:
        await prepare_database(settings)
        me = await identify(bot, settings)
        identity = Identity(
            id=me.id,
            username=me.username or "",
            aliases=tuple(settings.bot_aliases),
            name=me.first_name,
        )
        container = build_container(settings, bot=bot, identity=identity, extra=extra)
        try:
            bot.session.middleware(await container.get(Delivery))  # the one sending path
            await container.get(Model)  # models (keys!) and tool servers ready before any update
            dispatcher = build_dispatcher()
            wire_container(dispatcher, container)
            await dispatcher.emit_startup(bot=bot)
            await bot.set_my_commands(bot_commands(await container.get(Texts)))
            pipeline = UpdatePipeline(
                dispatcher=dispatcher,
                bot=bot,
                inbox=await container.get(Inbox),
                metrics=await container.get(Metrics),
                username=identity.username,
            )
            recovered = await pipeline.recover()
            sweeper = asyncio.create_task(sweep_questions(await container.get(Assistant)))
            watcher = asyncio.create_task((await container.get(LoopLag)).watch())
            log.info("magpie.ready", bot=identity.username, recovered=recovered)
            try:
                yield Runtime(settings, bot, dispatcher, container, pipeline, identity)
            finally:
                sweeper.cancel()
                watcher.cancel()
                await finish_in_flight(pipeline, settings.shutdown_grace_seconds)
                await dispatcher.emit_shutdown(bot=bot)
        finally:
            await container.close()
    finally:
        await bot.session.close()


@contextlib.asynccontextmanager
async def listening(app: web.Application, listen: str) -> AsyncIterator[None]:
    """Serve an aiohttp app on host:port until the block ends."""
    host, _, port = listen.rpartition(":")
    app_runner = web.AppRunner(app, access_log=None)
    await app_runner.setup()
    await web.TCPSite(app_runner, host or "0.0.0.0", int(port)).start()
    try:
        yield
    finally:
        await app_runner.cleanup()


async def serve(runtime: Runtime, *, stop: asyncio.Event | None = None) -> None:
    """Long polling, or a webhook server when WEBHOOK_URL is set; until `stop` is set.

    /metrics and /healthz are served on the webhook server, or on METRICS_LISTEN when polling.
    """
    stop = stop or asyncio.Event()
    settings, bot = runtime.settings, runtime.bot
    metrics = await runtime.container.get(Metrics)
    allowed = runtime.dispatcher.resolve_used_update_types()
    if not settings.use_webhook:
        async with contextlib.AsyncExitStack() as stack:
            if settings.metrics_listen:
                app = web.Application()
                add_observability_routes(app, metrics)
                await stack.enter_async_context(listening(app, settings.metrics_listen))
            await bot.delete_webhook()
            await poll(bot, runtime.pipeline, allowed_updates=allowed, stop=stop)
        return
    assert settings.webhook_url is not None
    secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else secrets.token_urlsafe(32)
    )
    path = urlsplit(settings.webhook_url).path or "/"
    app = webhook_app(runtime.pipeline, secret=secret, path=path)
    add_observability_routes(app, metrics)
    async with listening(app, settings.webhook_listen):
        await bot.set_webhook(settings.webhook_url, secret_token=secret, allowed_updates=allowed)
        log.info("webhook.listening", url=settings.webhook_url, listen=settings.webhook_listen)
        await stop.wait()
