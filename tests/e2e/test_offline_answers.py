"""What a new user met on the offline model, end to end: what it echoes, which tools it runs,
what it says when a tool was not allowed; and a model's numbered list as it was written."""

from __future__ import annotations

from sqlalchemy import select

from magpie.storage.database import Database
from magpie.storage.tables import NoteRow, ToolCallRow
from tests.e2e.conftest import Harness
from tests.fakes.llm_vendors import FakeLLMVendors, Reply


async def tool_calls(h: Harness) -> list[tuple[str, str]]:
    db = await h.runtime.container.get(Database)
    async with db.read() as connection:
        rows = await connection.execute(select(ToolCallRow).order_by(ToolCallRow.id))
        return [(row.tool, row.outcome) for row in rows]


async def notes(h: Harness) -> list[str]:
    db = await h.runtime.container.get(Database)
    async with db.read() as connection:
        return [note.text for note in await connection.execute(select(NoteRow))]


async def test_markdown_entities_and_every_line_come_back_as_written(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    written = "*_[ and &amp;\nsecond line\n\nlast line"
    asked = magpie.sandbox.people.send_text(ann, magpie.account, written)
    assert f"You wrote: {written}\n" in ((await magpie.reply_to(asked)).text or "")


async def test_a_sentence_about_time_runs_no_tool(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    asked = magpie.sandbox.people.send_text(ann, magpie.account, "I don't have the time for this")
    assert "You wrote: I don't have the time for this" in (
        (await magpie.reply_to(asked)).text or ""
    )
    assert await tool_calls(magpie) == []


async def test_do_you_remember_me_asks_nothing_and_saves_nothing(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    asked = magpie.sandbox.people.send_text(ann, magpie.account, "do you remember me?")
    reply = await magpie.reply_to(asked)
    assert "I didn't save anything" in (reply.text or "")
    assert not reply.reply_markup  # no Allow / Don't question
    assert await tool_calls(magpie) == [] and await notes(magpie) == []


async def test_an_expression_is_calculated_whole(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    asked = magpie.sandbox.people.send_text(ann, magpie.account, "calculate (2**64) / 7 + sqrt(2)")
    assert "(2**64) / 7 + sqrt(2) = 2.63524915339e+18" in (
        (await magpie.reply_to(asked)).text or ""
    )


async def test_a_note_not_allowed_is_reported_as_not_done(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    chat = magpie.private(ann)
    magpie.sandbox.people.send_text(ann, magpie.account, "remember that the keys are under the mat")
    question = await magpie.confirmation(chat)
    magpie.press(ann, question, allow=False)
    await magpie.settled()
    answer = magpie.bot_messages(chat, after=question.message_id)[-1].text or ""
    assert answer == "I didn't use the save_note tool: Ann did not allow it, so nothing was done."
    assert await notes(magpie) == []


async def test_a_numbered_list_keeps_the_models_numbers(
    vendor_magpie: Harness, fake_vendors: FakeLLMVendors
) -> None:
    h = vendor_magpie
    fake_vendors.enqueue(Reply("Steps:\n\n0. plug in\n1. switch on\n\nThen:\n\n4. wait\n5. smile"))
    ann = h.sandbox.add_user("Ann")
    reply = await h.reply_to(h.sandbox.people.send_text(ann, h.account, "how?"))
    assert reply.text == "Steps:\n\n0. plug in\n1. switch on\n\nThen:\n\n4. wait\n5. smile"
