"""/tools, /model and /persona: per-chat choices (chat admins in groups), and tool confirmations."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from dishka.integrations.aiogram import FromDishka

from magpie.config import Settings
from magpie.conversation.ports import PreferencesStore
from magpie.llm.catalog import ModelCatalog
from magpie.storage.tool_calls import SqlCallLog
from magpie.telegram.admins import ChatAdmins
from magpie.telegram.confirmations import Answer, PendingConfirmations, parse
from magpie.telegram.incoming import looks_like_command
from magpie.texts import Texts
from magpie.tools.toolbox import ToolBox

PERSONA_LIMIT = 2000


async def may_configure(chat_id: int, user_id: int, admins: ChatAdmins, settings: Settings) -> bool:
    """In private chats the person decides; in groups the chat's admins (and bot admins)."""
    return user_id in settings.bot_admins or await admins.is_admin(chat_id, user_id)


def _tools_keyboard(names: list[str], disabled: frozenset[str]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=f"{'⬜' if name in disabled else '✅'} {name}", callback_data=f"tool:{name}"
            )
        ]
        for name in names
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def tools_command(
    message: Message,
    toolbox: FromDishka[ToolBox],
    preferences: FromDishka[PreferencesStore],
    calls: FromDishka[SqlCallLog],
    admins: FromDishka[ChatAdmins],
    settings: FromDishka[Settings],
    texts: FromDishka[Texts],
) -> None:
    chat_id, user = message.chat.id, message.from_user
    current = await preferences.get(chat_id)
    if user is None or not await may_configure(chat_id, user.id, admins, settings):
        enabled = [name for name in toolbox.names if name not in current.disabled_tools]
        await message.answer(f"{texts.tools_admins_only}\n\n" + ", ".join(enabled))
        return
    recent = await calls.recent(chat_id, limit=5)
    history = (
        "\n".join(f"• {c.tool} — {c.outcome}, {c.duration_ms} ms" for c in recent)
        if recent
        else texts.tools_none
    )
    await message.answer(
        f"{texts.tools_header}\n\n{texts.tools_recent}\n{history}",
        reply_markup=_tools_keyboard(toolbox.names, current.disabled_tools),
    )


async def toggle_tool(
    query: CallbackQuery,
    toolbox: FromDishka[ToolBox],
    preferences: FromDishka[PreferencesStore],
    admins: FromDishka[ChatAdmins],
    settings: FromDishka[Settings],
    texts: FromDishka[Texts],
) -> None:
    name = (query.data or "").removeprefix("tool:")
    message = query.message
    if not isinstance(message, Message) or name not in toolbox.specs:
        await query.answer(texts.expired)
        return
    if not await may_configure(message.chat.id, query.from_user.id, admins, settings):
        await query.answer(texts.tools_admins_only, show_alert=True)
        return
    current = await preferences.get(message.chat.id)
    enable = name in current.disabled_tools
    await preferences.set_tool(message.chat.id, name, enabled=enable)
    updated = await preferences.get(message.chat.id)
    await message.edit_reply_markup(
        reply_markup=_tools_keyboard(toolbox.names, updated.disabled_tools)
    )
    await query.answer(f"{name}: {'on' if enable else 'off'}")


def _models_keyboard(labels: list[str], current: str) -> InlineKeyboardMarkup:
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
    message: Message,
    catalog: FromDishka[ModelCatalog],
    preferences: FromDishka[PreferencesStore],
    texts: FromDishka[Texts],
) -> None:
    chosen = (await preferences.get(message.chat.id)).model
    current = chosen if chosen and catalog.knows(chosen) else catalog.default
    await message.answer(
        texts.model_current.format(model=current),
        reply_markup=_models_keyboard(catalog.labels, current),
    )


async def choose_model(
    query: CallbackQuery,
    catalog: FromDishka[ModelCatalog],
    preferences: FromDishka[PreferencesStore],
    admins: FromDishka[ChatAdmins],
    settings: FromDishka[Settings],
    texts: FromDishka[Texts],
) -> None:
    label = (query.data or "").removeprefix("model:")
    message = query.message
    if not isinstance(message, Message) or not catalog.knows(label):
        await query.answer(texts.expired)
        return
    if not await may_configure(message.chat.id, query.from_user.id, admins, settings):
        await query.answer(texts.model_admins_only, show_alert=True)
        return
    await preferences.set_model(message.chat.id, label)
    await message.edit_text(
        texts.model_set.format(model=label), reply_markup=_models_keyboard(catalog.labels, label)
    )
    await query.answer()


async def persona_command(
    message: Message,
    command: CommandObject,
    preferences: FromDishka[PreferencesStore],
    admins: FromDishka[ChatAdmins],
    settings: FromDishka[Settings],
    texts: FromDishka[Texts],
) -> None:
    chat_id, user = message.chat.id, message.from_user
    text = (command.args or "").strip()
    if not text:
        persona = (await preferences.get(chat_id)).persona or settings.persona
        await message.answer(texts.persona_current.format(persona=persona))
        return
    if user is None or not await may_configure(chat_id, user.id, admins, settings):
        await message.answer(texts.persona_admins_only)
        return
    if text.lower() == "reset":
        await preferences.set_persona(chat_id, None)
        await message.answer(texts.persona_reset)
        return
    await preferences.set_persona(chat_id, text[:PERSONA_LIMIT])
    await message.answer(texts.persona_set)


async def answer_confirmation(
    query: CallbackQuery, pending: FromDishka[PendingConfirmations], texts: FromDishka[Texts]
) -> None:
    parsed = parse(query.data or "")
    if parsed is None:
        await query.answer(texts.expired)
        return
    key, allow = parsed
    owner = pending.owner(key)
    outcome = pending.answer(key, user_id=query.from_user.id, allow=allow)
    if outcome is Answer.NOT_YOURS:
        await query.answer(texts.not_yours.format(user=owner), show_alert=True)
    elif outcome is Answer.EXPIRED:
        await query.answer(texts.expired)
    else:
        await query.answer()


def router() -> Router:
    choices = Router(name=__name__)
    choices.message.filter(looks_like_command)
    choices.message.register(tools_command, Command("tools"))
    choices.message.register(model_command, Command("model"))
    choices.message.register(persona_command, Command("persona"))
    choices.callback_query.register(answer_confirmation, F.data.startswith("confirm:"))
    choices.callback_query.register(toggle_tool, F.data.startswith("tool:"))
    choices.callback_query.register(choose_model, F.data.startswith("model:"))
    return choices
