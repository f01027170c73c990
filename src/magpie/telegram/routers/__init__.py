"""Handlers, one router per module, included in priority order in one place."""

from __future__ import annotations

from aiogram import Dispatcher

from magpie.telegram.middlewares import DirectoryMiddleware, LogContextMiddleware
from magpie.telegram.routers import chat, commands, errors, membership


def build_dispatcher() -> Dispatcher:
    """Commands first, then membership changes, then ordinary messages; errors at the top."""
    dispatcher = Dispatcher(name="magpie")
    dispatcher.update.outer_middleware(LogContextMiddleware())
    dispatcher.include_routers(commands.router(), membership.router(), chat.router())
    dispatcher.errors.register(errors.on_error)  # on the dispatcher: errors bubble up to it
    return dispatcher


def add_directory(dispatcher: Dispatcher) -> None:
    """Keep users and chats current; runs inside dishka's per-update container."""
    middleware = DirectoryMiddleware()
    for observer in (
        dispatcher.message,
        dispatcher.edited_message,
        dispatcher.my_chat_member,
        dispatcher.callback_query,
    ):
        observer.outer_middleware(middleware)
