"""The one place that wires Magpie: dishka providers for the app (handlers get them per update
through dishka's aiogram integration)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from aiogram import Bot
from dishka import AsyncContainer, Provider, Scope, from_context, make_async_container, provide
from dishka.integrations.aiogram import AiogramProvider

from magpie.billing.meter import Meter
from magpie.billing.policy import QuotaPolicy, Quotas
from magpie.billing.prices import PriceTable
from magpie.billing.service import Billing
from magpie.billing.stars import Stars
from magpie.config import Settings
from magpie.conversation.chat_settings import ChatSettings
from magpie.conversation.clock import Clock
from magpie.conversation.context import TokenCounter
from magpie.conversation.ports import (
    ApprovalStore,
    ConversationStore,
    Model,
    PreferencesStore,
    Questions,
)
from magpie.conversation.running import RunningTurns
from magpie.conversation.turn import Assistant, TurnSettings
from magpie.conversation.types import Identity
from magpie.limits.outgoing import MemoryOutgoing, OutgoingLimiter, OutgoingRates
from magpie.limits.rates import Rate
from magpie.limits.users import Counters, MemoryCounters, UserLimits, UserQuota
from magpie.llm.breakers import Breakers
from magpie.llm.catalog import ModelCatalog
from magpie.llm.resilience import Resilience, resilient, with_fallbacks
from magpie.llm.runner import ModelRunner, TurnLimits
from magpie.llm.tokens import count_tokens
from magpie.observability.lag import LoopLag
from magpie.observability.metrics import Metrics
from magpie.storage.approvals import SqlApprovals
from magpie.storage.conversations import SqlConversationStore
from magpie.storage.database import Database, create_engine
from magpie.storage.directory import Directory
from magpie.storage.inbox import Inbox
from magpie.storage.ledger import SqlLedger
from magpie.storage.notes import SqlNotes
from magpie.storage.preferences import SqlPreferences
from magpie.storage.tool_calls import SqlCallLog
from magpie.telegram.admins import ChatAdmins
from magpie.telegram.delivery import Delivery
from magpie.telegram.questions import TelegramQuestions
from magpie.telegram.streaming import Pacing, Replies
from magpie.texts import ENGLISH, Texts
from magpie.tools.catalog import builtin_tools
from magpie.tools.deps import ToolSettings
from magpie.tools.mcp import connect_mcp_servers
from magpie.tools.net import tools_client
from magpie.tools.toolbox import ToolBox

if TYPE_CHECKING:
    from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class SharedRedis:
    """The Redis that several Magpie processes share (REDIS_URL), or None: all in memory."""

    client: Redis | None


def outgoing_rates(settings: Settings) -> OutgoingRates:
    """SEND_* settings as the outgoing limiter's buckets."""
    return OutgoingRates(
        chat=Rate(settings.send_per_chat_per_second, 1.0, burst=settings.send_chat_burst),
        group=Rate(settings.send_per_group_per_minute, 60.0, burst=settings.send_group_burst),
        bot=Rate(settings.send_per_second, 1.0, burst=settings.send_burst),
    )


class AppProvider(Provider):
    """Lives as long as the process: settings, database, models, tools, clients."""

    scope = Scope.APP
    settings = from_context(Settings)
    bot = from_context(Bot)
    identity = from_context(Identity)

    @provide
    async def database(self, settings: Settings) -> AsyncIterator[Database]:
        database = Database(create_engine(settings.sqlalchemy_url))
        yield database
        await database.close()

    @provide
    async def models(self, settings: Settings) -> AsyncIterator[ModelCatalog]:
        policy, breakers = Resilience.from_settings(settings), Breakers()
        catalog = ModelCatalog(
            settings,
            wrap=lambda label, provider, model: (
                model
                if provider == "offline"
                else resilient(model, provider=provider, policy=policy, breakers=breakers)
            ),
            chain=with_fallbacks,
        )
        yield catalog
        await catalog.close()

    @provide
    async def http(self) -> AsyncIterator[httpx.AsyncClient]:
        """For tools that call web services: no cookies, no proxies (see tools/net.py)."""
        async with tools_client() as client:
            yield client

    @provide
    def tool_settings(self, settings: Settings) -> ToolSettings:
        return ToolSettings(
            geocoding_url=settings.open_meteo_geocoding_url,
            forecast_url=settings.open_meteo_url,
            searxng_url=settings.searxng_url,
            allowed_private_networks=tuple(settings.web_allow_private_networks),
        )

    @provide
    async def toolbox(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        notes: SqlNotes,
        tool_settings: ToolSettings,
        calls: SqlCallLog,
    ) -> AsyncIterator[ToolBox]:
        box = ToolBox(
            builtin_tools(can_search=settings.searxng_url is not None),
            http=http,
            notes=notes,
            settings=tool_settings,
            calls=calls,
        )
        async with connect_mcp_servers(settings.mcp_servers) as mcp_tools:
            box.add(mcp_tools)
            yield box

    @provide
    def model(
        self, catalog: ModelCatalog, toolbox: ToolBox, settings: Settings, texts: Texts
    ) -> Model:
        limits = TurnLimits(
            max_tool_steps=settings.turn_max_tool_steps,
            seconds=settings.turn_timeout_seconds,
            max_tokens=settings.turn_max_tokens,
        )
        return ModelRunner(catalog, toolbox=toolbox, limits=limits, reasons=texts.reasons)

    @provide
    def questions(self, bot: Bot) -> Questions:
        return TelegramQuestions(bot)

    @provide
    def approvals(self, database: Database) -> ApprovalStore:
        return SqlApprovals(database)

    @provide
    def admins(self, bot: Bot) -> ChatAdmins:
        return ChatAdmins(bot)

    @provide
    def chat_settings(
        self,
        preferences: PreferencesStore,
        admins: ChatAdmins,
        calls: SqlCallLog,
        toolbox: ToolBox,
        catalog: ModelCatalog,
        settings: Settings,
    ) -> ChatSettings:
        return ChatSettings(
            preferences,
            admins,
            calls,
            bot_admins=frozenset(settings.bot_admins),
            tools=toolbox.names,
            models=catalog.labels,
            persona=settings.persona,
        )

    @provide
    def turn_settings(self, settings: Settings) -> TurnSettings:
        return TurnSettings(
            persona=settings.persona,
            context_tokens=settings.context_tokens,
            question_seconds=settings.tool_confirm_seconds,
        )

    @provide
    def token_counter(self) -> TokenCounter:
        return count_tokens

    @provide
    def texts(self) -> Texts:
        return ENGLISH

    @provide
    def metrics(self) -> Metrics:
        return Metrics()

    @provide
    def pacing(self) -> Pacing:
        return Pacing()

    @provide
    async def shared_redis(self, settings: Settings) -> AsyncIterator[SharedRedis]:
        if settings.redis_url is None:
            yield SharedRedis(None)
            return
        from magpie.limits.redis_client import connect  # here: only when REDIS_URL is set

        client = connect(settings.redis_url)
        yield SharedRedis(client)
        await client.aclose()

    @provide
    def outgoing(self, settings: Settings, shared: SharedRedis, bot: Bot) -> OutgoingLimiter:
        rates = outgoing_rates(settings)
        if shared.client is None:
            return MemoryOutgoing(rates)
        from magpie.limits.redis_outgoing import RedisOutgoing

        return RedisOutgoing(shared.client, namespace=str(bot.id), rates=rates)

    @provide
    def counters(self, shared: SharedRedis) -> Counters:
        if shared.client is None:
            return MemoryCounters()
        from magpie.limits.redis_users import RedisCounters

        return RedisCounters(shared.client)

    @provide
    def user_limits(
        self, settings: Settings, counters: Counters, metrics: Metrics, clock: Clock
    ) -> UserLimits:
        quota = UserQuota(
            messages_per_minute=settings.user_messages_per_minute,
            messages_per_day=settings.user_messages_per_day,
            tokens_per_minute=settings.user_tokens_per_minute,
            tokens_per_day=settings.user_tokens_per_day,
        )
        return UserLimits(
            counters,
            quota,
            clock=lambda: clock.now().timestamp(),  # UTC days; and the tests' frozen clock
            on_refused=lambda limit: metrics.user_limited.labels(limit).inc(),
        )

    @provide
    def delivery(self, metrics: Metrics, outgoing: OutgoingLimiter) -> Delivery:
        return Delivery(metrics, limiter=outgoing)

    @provide
    def lag(self, metrics: Metrics) -> LoopLag:
        return LoopLag(metrics)

    @provide
    def replies(self, bot: Bot, pacing: Pacing, texts: Texts, lag: LoopLag) -> Replies:
        return Replies(bot, pacing, texts, busy=lag.busy)

    @provide
    def preferences(self, database: Database) -> PreferencesStore:
        return SqlPreferences(database)  # app-wide: it remembers each chat's choices briefly

    @provide
    def directory(self, database: Database) -> Directory:
        return Directory(database)  # app-wide: it remembers what it already wrote

    @provide
    async def inbox(self, database: Database) -> AsyncIterator[Inbox]:
        inbox = Inbox(database)
        yield inbox
        await inbox.close()  # the last "done" marks

    @provide
    async def store(self, database: Database) -> AsyncIterator[ConversationStore]:
        store = SqlConversationStore(database)
        yield store
        await store.close()  # writes still queued for the group commit

    running = provide(RunningTurns)

    @provide
    def clock(self) -> Clock:
        return Clock()

    notes = provide(SqlNotes)
    calls = provide(SqlCallLog)

    @provide
    def ledger(self, database: Database) -> SqlLedger:
        return SqlLedger(database)

    @provide
    def quota_policy(self, settings: Settings) -> QuotaPolicy:
        return QuotaPolicy(
            Quotas(
                free_daily=settings.billing_free_daily,
                user_daily_cap=settings.billing_user_daily_cap,
                group_daily_cap=settings.billing_group_daily_cap,
            )
        )

    @provide
    def prices(self, settings: Settings) -> PriceTable:
        return PriceTable.with_overrides(settings.billing_prices)

    @provide
    def meter(
        self,
        prices: PriceTable,
        policy: QuotaPolicy,
        ledger: SqlLedger,
        clock: Clock,
        settings: Settings,
    ) -> Meter:
        return Meter(
            prices=prices,
            policy=policy,
            books=ledger,
            now=clock.now,
            expected_output=settings.billing_expected_output_tokens,
        )

    @provide
    def billing(self, ledger: SqlLedger, policy: QuotaPolicy, clock: Clock) -> Billing:
        return Billing(ledger, policy=policy, now=clock.now)

    @provide
    def stars(self, ledger: SqlLedger, settings: Settings, clock: Clock) -> Stars:
        return Stars(
            ledger,
            packages=tuple(settings.billing_packages),
            refund_days=settings.billing_refund_days,
            now=clock.now,
        )

    @provide
    def assistant(
        self,
        store: ConversationStore,
        preferences: PreferencesStore,
        approvals: ApprovalStore,
        questions: Questions,
        model: Model,
        identity: Identity,
        settings: TurnSettings,
        count: TokenCounter,
        running: RunningTurns,
        texts: Texts,
        clock: Clock,
        limits: UserLimits,
        meter: Meter,
    ) -> Assistant:
        """App-wide: it holds no state of its own, so one serves every update."""
        return Assistant(
            store=store,
            preferences=preferences,
            approvals=approvals,
            questions=questions,
            model=model,
            identity=identity,
            settings=settings,
            count=count,
            running=running,
            texts=texts,
            clock=clock,
            limits=limits,
            meter=meter,
        )


def build_container(
    settings: Settings, *, bot: Bot, identity: Identity, extra: list[Provider] | None = None
) -> AsyncContainer:
    """The container for one running Magpie; `extra` providers override (tests, benchmarks)."""
    return make_async_container(
        AppProvider(),
        AiogramProvider(),
        *(extra or []),
        context={Settings: settings, Bot: bot, Identity: identity},
    )
