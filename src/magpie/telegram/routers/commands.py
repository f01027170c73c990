"""/start, /help, /new, /stop, /retry."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message
from dishka.integrations.aiogram import FromDishka

from magpie.conversation.turn import Assistant
from magpie.conversation.types import Identity
from magpie.telegram.incoming import conversation_key
from magpie.telegram.streaming import Pacing, TelegramReply
from magpie.texts import Texts

router = Router(name=__name__)


def reply_channel(bot: Bot, message: Message, pacing: Pacing) -> TelegramReply:
    """Where an answer to `message` goes: same chat, same topic, replying in groups."""
    return TelegramReply(
        bot,
        chat_id=message.chat.id,
        private=message.chat.type == "private",
        thread_id=message.message_thread_id if message.is_topic_message else None,
        reply_to=message.message_id,
        pacing=pacing,
    )


@router.message(CommandStart())
async def start(message: Message, identity: FromDishka[Identity], texts: FromDishka[Texts]) -> None:
    await message.answer(texts.start.format(name=identity.name, username=identity.username))


@router.message(Command("help"))
async def help_(message: Message, texts: FromDishka[Texts]) -> None:
    await message.answer(texts.help)


@router.message(Command("new"))
async def new(message: Message, assistant: FromDishka[Assistant], texts: FromDishka[Texts]) -> None:
    await assistant.start_fresh(conversation_key(message))
    await message.answer(texts.fresh)


@router.message(Command("stop"))
async def stop(
    message: Message, assistant: FromDishka[Assistant], texts: FromDishka[Texts]
) -> None:
    if not assistant.stop(conversation_key(message)):
        await message.answer(texts.nothing_to_stop)


@router.message(Command("retry"))
async def retry(
    message: Message,
    bot: Bot,
    assistant: FromDishka[Assistant],
    pacing: FromDishka[Pacing],
    texts: FromDishka[Texts],
) -> None:
    record = await assistant.retry(conversation_key(message), reply_channel(bot, message, pacing))
    if record is None:
        await message.answer(texts.nothing_to_retry)
