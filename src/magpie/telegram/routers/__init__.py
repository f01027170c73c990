"""Handlers, one router per module, included in priority order in one place."""

from __future__ import annotations

from aiogram import Dispatcher
from dishka import AsyncContainer
from dishka.integrations.aiogram import ContainerMiddleware, inject_router

from magpie.telegram.middlewares import DirectoryMiddleware, LogContextMiddleware
from magpie.telegram.routers import (
    approvals,
    chat,
    commands,
    errors,
    membership,
    payments,
    settings,
)


def build_dispatcher() -> Dispatcher:
    """Payments first (their updates and commands), then the other commands, buttons and
    membership changes, then ordinary messages; errors at the top."""
    dispatcher = Dispatcher(name="magpie", disable_fsm=True)  # no handler keeps FSM state
    dispatcher.update.outer_middleware(LogContextMiddleware())
    dispatcher.include_routers(
        payments.router(),
        commands.router(),
        settings.router(),
        approvals.router(),
        membership.router(),
        chat.router(),
    )
    dispatcher.errors.register(errors.on_error)  # on the dispatcher: errors bubble up to it
    return dispatcher


def wire_container(dispatcher: Dispatcher, container: AsyncContainer) -> None:
    """One dishka request scope per update (not per observer), then handlers get injected.

    The container middleware sits on the update observer, so everything below it (the
    directory middleware, every handler) shares one scope; users and chats are remembered
    inside it.
    """
    dispatcher.update.outer_middleware(ContainerMiddleware(container))
    middleware = DirectoryMiddleware()
    for observer in (
        dispatcher.message,
        dispatcher.edited_message,
        dispatcher.my_chat_member,
        dispatcher.callback_query,
    ):
        observer.outer_middleware(middleware)
    inject_router(dispatcher)
