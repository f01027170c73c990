"""/start, /help, /new, /stop, /retry, and a short answer to a command Magpie does not know."""

from __future__ import annotations

import re

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from dishka.integrations.aiogram import FromDishka

from magpie.config import Settings
from magpie.conversation.turn import Assistant
from magpie.conversation.types import Identity
from magpie.observability.metrics import Metrics
from magpie.telegram.incoming import addressing, conversation_key, looks_like_command
from magpie.telegram.streaming import Replies
from magpie.texts import Texts


async def start(message: Message, identity: FromDishka[Identity], texts: FromDishka[Texts]) -> None:
    await message.answer(texts.start.format(name=identity.name, username=identity.username))


async def help_(message: Message, texts: FromDishka[Texts]) -> None:
    await message.answer(texts.help)


async def new(message: Message, assistant: FromDishka[Assistant], texts: FromDishka[Texts]) -> None:
    await assistant.start_fresh(conversation_key(message))
    await message.answer(texts.fresh)


async def stop(
    message: Message, assistant: FromDishka[Assistant], texts: FromDishka[Texts]
) -> None:
    if not await assistant.stop(conversation_key(message)):
        await message.answer(texts.nothing_to_stop)


async def retry(
    message: Message,
    assistant: FromDishka[Assistant],
    replies: FromDishka[Replies],
    texts: FromDishka[Texts],
    metrics: FromDishka[Metrics],
    settings: FromDishka[Settings],
) -> None:
    channel = replies.to(message)
    asker = message.from_user.id if message.from_user else message.chat.id
    if not await assistant.within_limits(asker, channel, exempt=asker in settings.bot_admins):
        return  # an answer again costs what an answer costs
    record = await assistant.retry(conversation_key(message), channel)
    if record is None:
        await message.answer(texts.nothing_to_retry)
    else:
        metrics.observe_turn(record, chat_type=message.chat.type)


# Any command for Magpie (bare or /name@magpie_bot) but those later routers handle (settings).
UNKNOWN_COMMAND = Command(re.compile(r"(?!(?:tools|model|persona)\Z)\w{1,64}\Z"))


async def unknown_command(
    message: Message,
    command: CommandObject,
    identity: FromDishka[Identity],
    texts: FromDishka[Texts],
) -> None:
    """Not a model turn: the commands there are. In a group a bare /command may be another
    bot's, so only one addressed to Magpie (/name@magpie_bot, or a reply to it) is answered."""
    private = message.chat.type == "private"
    if private or command.mention or addressing(message, identity).replies_to_bot:
        await message.answer(texts.unknown_command.format(command=f"/{command.command}"))


def router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    commands = Router(name=__name__)
    commands.message.filter(looks_like_command)  # ordinary messages skip every command filter
    commands.message.register(start, CommandStart())
    commands.message.register(help_, Command("help"))
    commands.message.register(new, Command("new"))
    commands.message.register(stop, Command("stop"))
    commands.message.register(retry, Command("retry"))
    commands.message.register(unknown_command, UNKNOWN_COMMAND)  # last: after every known one
    return commands
