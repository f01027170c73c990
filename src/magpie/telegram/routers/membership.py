"""Joining a group: say, in one message, what Magpie will and will not hear there."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import JOIN_TRANSITION, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated
from dishka.integrations.aiogram import FromDishka

from magpie.conversation.types import Identity
from magpie.telegram.admins import ChatAdmins
from magpie.texts import Texts


def group_hello(texts: Texts, identity: Identity, *, sees_everything: bool, forum: bool) -> str:
    alias = f'"{identity.aliases[0]}"' if identity.aliases else identity.name
    template = texts.group_hello_all if sees_everything else texts.group_hello_private
    text = template.format(name=identity.name, username=identity.username, alias=alias)
    return text + (texts.group_hello_forum if forum else "")


async def added_to_group(
    event: ChatMemberUpdated,
    bot: Bot,
    identity: FromDishka[Identity],
    texts: FromDishka[Texts],
    admins: FromDishka[ChatAdmins],
) -> None:
    if event.chat.type not in ("group", "supergroup"):
        return
    admins.forget(event.chat.id)  # (re)joined: whatever we knew about its admins is stale
    me = await bot.get_me()
    is_admin = event.new_chat_member.status in ("administrator", "creator")
    sees_everything = bool(me.can_read_all_group_messages) or is_admin
    await bot.send_message(
        event.chat.id,
        group_hello(
            texts, identity, sees_everything=sees_everything, forum=bool(event.chat.is_forum)
        ),
    )


def router() -> Router:
    membership = Router(name=__name__)
    membership.my_chat_member.register(
        added_to_group, ChatMemberUpdatedFilter(member_status_changed=JOIN_TRANSITION)
    )
    return membership
