"""A command Magpie does not know gets the list of those it does, never a model turn; in a
group only when it is addressed to Magpie, since a bare /command may be another bot's."""

from __future__ import annotations

import json

from sqlalchemy import select
from tg_sandbox import Sandbox

from magpie.storage.database import Database
from magpie.storage.tables import TurnRow
from magpie.texts import ENGLISH
from tests.e2e.conftest import Harness


async def turns(h: Harness) -> int:
    db = await h.runtime.container.get(Database)
    async with db.read() as connection:
        return len(list(await connection.execute(select(TurnRow))))


async def test_an_unknown_command_in_private_lists_the_commands(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    asked = magpie.sandbox.people.send_text(ann, magpie.account, "/weather Lviv")
    reply = await magpie.reply_to(asked)
    assert reply.text == ENGLISH.unknown_command.format(command="/weather")
    assert await turns(magpie) == 0


async def test_in_a_group_only_a_command_addressed_to_magpie_is_answered(
    sandbox: Sandbox, magpie: Harness
) -> None:
    ann = sandbox.add_user("Ann")
    group = sandbox.add_group("G", members=[ann])
    sandbox.add_bot_to_chat(magpie.account, group, admin=True)
    await magpie.until(lambda: magpie.bot_messages(group))
    bare = sandbox.people.send_text(ann, group, "/roll 2d6")
    await magpie.settled()
    assert magpie.bot_messages(group, after=bare.message_id) == []
    addressed = sandbox.people.send_text(ann, group, "/roll@magpie_bot 2d6")
    reply = await magpie.reply_to(addressed)
    assert reply.text == ENGLISH.unknown_command.format(command="/roll")
    replying = sandbox.people.send_text(ann, group, "/dice", reply_to=reply)
    assert (await magpie.reply_to(replying)).text == ENGLISH.unknown_command.format(command="/dice")
    assert await turns(magpie) == 0


async def test_every_registered_command_still_reaches_its_handler(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    await magpie.reply_to(magpie.sandbox.people.send_text(ann, magpie.account, "/start"))
    registered = json.loads(
        magpie.sandbox.transcript(method="setMyCommands")[-1].params["commands"]
    )
    assert len(registered) >= 7
    for entry in registered:
        asked = magpie.sandbox.people.send_text(ann, magpie.account, f"/{entry['command']}")
        reply = await magpie.reply_to(asked)
        assert not (reply.text or "").startswith("I don't know"), entry["command"]
