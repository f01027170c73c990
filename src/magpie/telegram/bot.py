"""The aiogram Bot, pointed at Telegram or at any Bot API server (the sandbox, a local server)."""

from __future__ import annotations

import functools

from aiogram import Bot, methods
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods.base import Response
from aiogram.utils.token import TokenValidationError

from magpie.config import ConfigError, Settings


@functools.cache
def _pinned_response_types() -> tuple[type, ...]:
    """aiogram parses every answer as Response[T]; pydantic keeps those classes only weakly,
    so under garbage-collector pressure they are rebuilt (~10 ms each). Holding the ones
    Magpie calls keeps them built."""
    used = (
        methods.GetUpdates,
        methods.GetMe,
        methods.SendMessage,
        methods.SendMessageDraft,
        methods.EditMessageText,
        methods.SendChatAction,
        methods.SetMyCommands,
        methods.SetWebhook,
        methods.DeleteWebhook,
        methods.AnswerCallbackQuery,
        methods.CreateForumTopic,
    )
    return tuple(Response[method.__returning__] for method in used)  # type: ignore[name-defined]


def create_bot(settings: Settings) -> Bot:
    """A Bot for TELEGRAM_BOT_TOKEN on TELEGRAM_API_URL; one clear line when the token is bad."""
    if settings.telegram_bot_token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set: expected the token @BotFather gave you")
    _pinned_response_types()
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    try:
        return Bot(
            settings.telegram_bot_token.get_secret_value(),
            session=session,
            default=DefaultBotProperties(link_preview_is_disabled=True),
        )
    except TokenValidationError:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN=*** is invalid: expected <digits>:<letters> as @BotFather gives it"
        ) from None
