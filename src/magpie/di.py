"""The one place that wires Magpie: dishka providers for the app and for each update."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiogram import Bot
from dishka import AsyncContainer, Provider, Scope, from_context, make_async_container, provide
from dishka.integrations.aiogram import AiogramProvider

from magpie.config import Settings
from magpie.conversation.context import TokenCounter
from magpie.conversation.ports import ConversationStore, Model
from magpie.conversation.running import RunningTurns
from magpie.conversation.turn import Assistant, TurnSettings
from magpie.conversation.types import Identity
from magpie.llm.agent_model import AgentModel
from magpie.llm.models import build_model, parse_spec
from magpie.llm.tokens import count_tokens
from magpie.observability.metrics import Metrics
from magpie.storage.conversations import SqlConversationStore
from magpie.storage.database import Database, create_engine
from magpie.storage.directory import Directory
from magpie.storage.inbox import Inbox
from magpie.telegram.streaming import Pacing
from magpie.texts import ENGLISH, Texts


class AppProvider(Provider):
    """Lives as long as the process: settings, database, model, clients."""

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
    async def model(self, settings: Settings) -> AsyncIterator[Model]:
        spec = parse_spec(settings.llm_model)
        built = build_model(spec, settings)
        async with built.model:  # closes HTTP clients the vendor's provider created itself
            yield AgentModel(built.model, name=spec.label, timeout=settings.llm_timeout_seconds * 2)
        await built.close()  # and the SDK client Magpie created

    @provide
    def turn_settings(self, settings: Settings) -> TurnSettings:
        return TurnSettings(persona=settings.persona, context_tokens=settings.context_tokens)

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

    running = provide(RunningTurns)
    inbox = provide(Inbox)

    @provide
    def directory(self, database: Database) -> Directory:
        return Directory(database)  # app-wide: it remembers what it already wrote


class UpdateProvider(Provider):
    """Built per update: the services a handler calls."""

    scope = Scope.REQUEST
    store = provide(SqlConversationStore, provides=ConversationStore)

    @provide
    def assistant(
        self,
        store: ConversationStore,
        model: Model,
        identity: Identity,
        settings: TurnSettings,
        count: TokenCounter,
        running: RunningTurns,
        texts: Texts,
    ) -> Assistant:
        return Assistant(
            store=store,
            model=model,
            identity=identity,
            settings=settings,
            count=count,
            running=running,
            texts=texts,
        )


def build_container(
    settings: Settings, *, bot: Bot, identity: Identity, extra: list[Provider] | None = None
) -> AsyncContainer:
    """The container for one running Magpie; `extra` providers override (tests, benchmarks)."""
    return make_async_container(
        AppProvider(),
        UpdateProvider(),
        AiogramProvider(),
        *(extra or []),
        context={Settings: settings, Bot: bot, Identity: identity},
    )
