"""/tools, /model and /persona: per-chat choices (chat admins in groups; rules in ChatSettings)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from dishka.integrations.aiogram import FromDishka

from magpie.conversation.chat_settings import Change, ChatSettings, ToolsView
from magpie.telegram.incoming import looks_like_command
from magpie.texts import Texts


def _tools_keyboard(view: ToolsView) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=f"{'⬜' if name in view.disabled else '✅'} {name}",
                callback_data=f"tool:{name}",
            )
        ]
        for name in view.names
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _tools_text(view: ToolsView, texts: Texts) -> str:
    history = (
        "\n".join(f"• {c.tool} — {c.outcome}, {c.duration_ms} ms" for c in view.recent)
        if view.recent
        else texts.tools_none
    )
    return f"{texts.tools_header}\n\n{texts.tools_recent}\n{history}"


async def tools_command(
    message: Message, chat: FromDishka[ChatSettings], texts: FromDishka[Texts]
) -> None:
    user_id = message.from_user.id if message.from_user else 0
    view = await chat.tools(message.chat.id, user_id, recent=5)
    if not view.may_change:
        await message.answer(f"{texts.tools_admins_only}\n\n" + ", ".join(view.enabled))
        return
    await message.answer(_tools_text(view, texts), reply_markup=_tools_keyboard(view))


async def toggle_tool(
    query: CallbackQuery, chat: FromDishka[ChatSettings], texts: FromDishka[Texts]
) -> None:
    name = (query.data or "").removeprefix("tool:")
    message = query.message
    if not isinstance(message, Message):
        await query.answer(texts.expired)
        return
    change, view = await chat.toggle_tool(message.chat.id, query.from_user.id, name)
    if change is Change.UNKNOWN:
        await query.answer(texts.expired)
    elif change is Change.REFUSED:
        await query.answer(texts.tools_admins_only, show_alert=True)
    else:
        await message.edit_reply_markup(reply_markup=_tools_keyboard(view))
        await query.answer(f"{name}: {'off' if name in view.disabled else 'on'}")


def _models_keyboard(labels: tuple[str, ...], current: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=f"{'● ' if label == current else ''}{label}",
                    callback_data=f"model:{label}"[:64],
                )
            ]
            for label in labels
        ]
    )


async def model_command(
    message: Message, chat: FromDishka[ChatSettings], texts: FromDishka[Texts]
) -> None:
    current = await chat.model(message.chat.id)
    await message.answer(
        texts.model_current.format(model=current),
        reply_markup=_models_keyboard(chat.models, current),
    )


async def choose_model(
    query: CallbackQuery, chat: FromDishka[ChatSettings], texts: FromDishka[Texts]
) -> None:
    label = (query.data or "").removeprefix("model:")
    message = query.message
    if not isinstance(message, Message):
        await query.answer(texts.expired)
        return
    change = await chat.choose_model(message.chat.id, query.from_user.id, label)
    if change is Change.UNKNOWN:
        await query.answer(texts.expired)
    elif change is Change.REFUSED:
        await query.answer(texts.model_admins_only, show_alert=True)
    else:
        await message.edit_text(
            texts.model_set.format(model=label), reply_markup=_models_keyboard(chat.models, label)
        )
        await query.answer()


PERSONA_ANSWERS = {
    Change.REFUSED: "persona_admins_only",
    Change.RESET: "persona_reset",
    Change.DONE: "persona_set",
}


async def persona_command(
    message: Message,
    command: CommandObject,
    chat: FromDishka[ChatSettings],
    texts: FromDishka[Texts],
) -> None:
    text = (command.args or "").strip()
    if not text:
        persona = await chat.persona(message.chat.id)
        await message.answer(texts.persona_current.format(persona=persona))
        return
    user_id = message.from_user.id if message.from_user else 0
    change = await chat.set_persona(message.chat.id, user_id, text)
    await message.answer(getattr(texts, PERSONA_ANSWERS[change]))


def router() -> Router:
    choices = Router(name=__name__)
    choices.message.filter(looks_like_command)
    choices.message.register(tools_command, Command("tools"))
    choices.message.register(model_command, Command("model"))
    choices.message.register(persona_command, Command("persona"))
    choices.callback_query.register(toggle_tool, F.data.startswith("tool:"))
    choices.callback_query.register(choose_model, F.data.startswith("model:"))
    return choices
