"""Groups, privacy mode, membership updates and forum topics."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import Update

from tests.conftest import client_for
from tg_sandbox import Chat, Sandbox, User


@pytest.fixture
def people(sandbox: Sandbox) -> tuple[User, User]:
    return sandbox.add_user("Ann", username="ann"), sandbox.add_user("Bob")


def texts(updates: list[Update]) -> list[str | None]:
    return [u.message.text for u in updates if u.message and u.message.text]


async def test_privacy_mode_shows_only_what_addresses_the_bot(
    sandbox: Sandbox, bot: Bot, people: tuple[User, User]
) -> None:
    ann, bob = people
    group = sandbox.add_group("Trip", members=[ann, bob])
    sandbox.add_bot_to_chat(sandbox.bot(), group)
    me = await bot.get_me()
    assert me.can_read_all_group_messages is False
    said = sandbox.people.send_text(ann, group, "Let's go to Lviv on Friday")
    sandbox.people.send_text(bob, group, "@magpie_bot what do you think?")
    sandbox.people.send_text(bob, group, "/help@magpie_bot")
    sandbox.people.send_text(bob, group, "/help@other_bot")
    updates = await bot.get_updates()
    assert texts(updates) == ["@magpie_bot what do you think?", "/help@magpie_bot"]
    assert any(u.message and u.message.new_chat_members for u in updates)  # service message
    assert any(u.my_chat_member for u in updates)
    reply = await bot.send_message(group.id, "Sounds good")
    await bot.get_updates(offset=updates[-1].update_id + 1)
    sandbox.people.send_text(ann, group, "thanks!", reply_to=reply)
    sandbox.people.send_text(ann, group, "not for you", reply_to=said)
    assert texts(await bot.get_updates()) == ["thanks!"]


async def test_admins_and_privacy_off_bots_see_everything(
    sandbox: Sandbox, people: tuple[User, User]
) -> None:
    ann, bob = people
    open_bot = sandbox.add_bot(
        token="7000000002:SANDBOX-open", username="open_bot", privacy_mode=False
    )
    admin_bot = sandbox.add_bot(token="7000000003:SANDBOX-admin", username="admin_bot")
    group = sandbox.add_group("Chat", members=[ann, bob])
    sandbox.add_bot_to_chat(open_bot, group)
    sandbox.add_bot_to_chat(admin_bot, group, admin=True)
    sandbox.people.send_text(ann, group, "just chatting")
    for account in (open_bot, admin_bot):
        client = client_for(sandbox, account.token)
        try:
            assert texts(await client.get_updates()) == ["just chatting"]
        finally:
            await client.session.close()


async def test_bots_do_not_see_other_bots_messages(
    sandbox: Sandbox, bot: Bot, people: tuple[User, User]
) -> None:
    ann, _ = people
    other = sandbox.add_bot(
        token="7000000004:SANDBOX-other", username="other_bot", privacy_mode=False
    )
    watcher = sandbox.add_bot(
        token="7000000005:SANDBOX-watch", username="watch_bot", privacy_mode=False
    )
    group = sandbox.add_group("Bots", members=[ann])
    for account in (sandbox.bot("magpie_bot"), other, watcher):
        sandbox.add_bot_to_chat(account, group)
    await bot.send_message(group.id, "hello from magpie")
    client = client_for(sandbox, watcher.token)
    try:
        assert texts(await client.get_updates()) == []
    finally:
        await client.session.close()


async def test_chat_and_member_queries(
    sandbox: Sandbox, bot: Bot, people: tuple[User, User]
) -> None:
    ann, bob = people
    group = sandbox.add_group("Team", members=[ann, bob])
    sandbox.add_bot_to_chat(sandbox.bot(), group, admin=True)
    info = await bot.get_chat(group.id)
    assert info.title == "Team" and info.type == "supergroup"
    owner = await bot.get_chat_member(group.id, ann.id)
    assert owner.status == "creator"
    admins = await bot.get_chat_administrators(group.id)
    assert {a.user.id for a in admins} == {ann.id, sandbox.bot().id}
    assert await bot.get_chat_member_count(group.id) == 3
    outsider = sandbox.add_group("Secret", members=[bob])
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup chat"):
        await bot.send_message(outsider.id, "hi")


async def test_forum_topics(sandbox: Sandbox, bot: Bot, people: tuple[User, User]) -> None:
    ann, bob = people
    forum: Chat = sandbox.add_group("Forum", members=[ann, bob], forum=True)
    sandbox.add_bot_to_chat(sandbox.bot(), forum, admin=True)
    topic = await bot.create_forum_topic(forum.id, "Travel")
    sent = await bot.send_message(
        forum.id, "in the topic", message_thread_id=topic.message_thread_id
    )
    assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(forum.id, "nowhere", message_thread_id=424242)
    user_topic = sandbox.create_topic(forum, "Food", by=ann)
    sandbox.people.send_text(bob, forum, "@magpie_bot pizza?", topic=user_topic.thread_id)
    updates = await bot.get_updates()
    asked = [u.message for u in updates if u.message and u.message.text == "@magpie_bot pizza?"]
    assert asked and asked[0].message_thread_id == user_topic.thread_id
    assert await bot.edit_forum_topic(forum.id, topic.message_thread_id, name="Trips") is True
    assert await bot.close_forum_topic(forum.id, topic.message_thread_id) is True
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(forum.id, topic.message_thread_id)
    plain = sandbox.add_group("Plain", members=[ann])
    sandbox.add_bot_to_chat(sandbox.bot(), plain)
    ignored = await bot.send_message(plain.id, "thread id ignored", message_thread_id=5)
    assert ignored.message_thread_id is None
