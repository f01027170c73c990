"""Tools end to end: the offline model's tool path, confirmations, /tools, /model, /persona."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from tg_sandbox import Sandbox

from magpie.storage.database import Database
from magpie.storage.tables import NoteRow, ToolCallRow
from tests.e2e.conftest import TOKEN, Harness, magpie_settings, on_fake_openai, start
from tests.fakes.llm_vendors import Fail, FakeLLMVendors, Reply, Step, VendorRequest


async def tool_calls(h: Harness) -> list[tuple[str, str]]:
    db = await h.runtime.container.get(Database)
    async with db.read() as connection:
        rows = await connection.execute(select(ToolCallRow).order_by(ToolCallRow.id))
        return [(row.tool, row.outcome) for row in rows]


async def notes(h: Harness) -> list[tuple[int, str]]:
    db = await h.runtime.container.get(Database)
    async with db.read() as connection:
        return [(n.chat_id, n.text) for n in await connection.execute(select(NoteRow))]


async def test_offline_model_tells_the_time_and_calculates(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    asked = magpie.sandbox.people.send_text(ann, magpie.account, "What time is it in Tokyo?")
    reply = await magpie.reply_to(asked)
    assert "current_time" in (reply.text or "") and "Asia/Tokyo" in (reply.text or "")
    statuses = [
        d.params.get("text", "") for d in magpie.sandbox.transcript(method="sendMessageDraft")
    ]
    assert "⏳ checking the time…" in statuses
    sum_asked = magpie.sandbox.people.send_text(ann, magpie.account, "calculate 17*23")
    assert "391" in ((await magpie.reply_to(sum_asked)).text or "")
    assert await tool_calls(magpie) == [("current_time", "ok"), ("calculate", "ok")]


async def test_a_note_is_saved_only_after_its_author_allows_it(magpie: Harness) -> None:
    ann = magpie.sandbox.add_user("Ann")
    chat = magpie.private(ann)
    magpie.sandbox.people.send_text(ann, magpie.account, "remember that the keys are under the mat")
    question = await magpie.confirmation(chat)
    assert (question.text or "").startswith("Ann, may I use the save_note tool with this?")
    assert await notes(magpie) == []
    magpie.press(ann, question, allow=True)
    await magpie.settled()
    assert await notes(magpie) == [(ann.id, "the keys are under the mat")]
    assert "Allowed by Ann." in (question.text or "")
    listed = magpie.sandbox.people.send_text(ann, magpie.account, "what are my notes?")
    assert "keys are under the mat" in ((await magpie.reply_to(listed)).text or "")


async def test_only_the_person_who_asked_can_confirm(sandbox: Sandbox, magpie: Harness) -> None:
    ann, bob = sandbox.add_user("Ann"), sandbox.add_user("Bob")
    group = sandbox.add_group("G", members=[ann, bob])
    sandbox.add_bot_to_chat(magpie.account, group, admin=True)
    await magpie.until(lambda: magpie.bot_messages(group))
    sandbox.people.send_text(ann, group, "magpie, remember that Bob owes me 5 euros")
    question = await magpie.confirmation(group)
    query = magpie.press(bob, question, allow=True)
    await magpie.until(lambda: query in sandbox.world.callback_answers)
    assert sandbox.world.callback_answers[query] == {
        "show_alert": True,
        "text": "Only Ann can answer this.",
    }
    magpie.press(ann, question, allow=False)
    await magpie.settled()
    assert await notes(magpie) == []
    assert ("save_note", "declined") in await tool_calls(magpie)


async def test_admins_switch_tools_off_for_their_chat(sandbox: Sandbox, magpie: Harness) -> None:
    ann, bob = sandbox.add_user("Ann"), sandbox.add_user("Bob")
    group = sandbox.add_group("G", members=[ann, bob])  # Ann created it: she is the owner
    sandbox.add_bot_to_chat(magpie.account, group, admin=True)
    await magpie.until(lambda: magpie.bot_messages(group))
    refused = sandbox.people.send_text(bob, group, "/tools")
    assert "Only this chat's admins" in ((await magpie.reply_to(refused)).text or "")
    menu = await magpie.reply_to(sandbox.people.send_text(ann, group, "/tools"))
    query = sandbox.people.press_button(bob, menu, "tool:calculate")
    await magpie.until(lambda: query in sandbox.world.callback_answers)
    assert sandbox.world.callback_answers[query]["text"].startswith("Only this chat's admins")
    sandbox.people.press_button(ann, menu, "tool:calculate")
    await magpie.settled()
    labels = [b["text"] for row in menu.reply_markup["inline_keyboard"] for b in row]  # type: ignore[index]
    assert "⬜ calculate" in labels
    asked = sandbox.people.send_text(bob, group, "magpie, calculate 2+2")
    reply = await magpie.reply_to(asked)
    assert "calculate" not in [tool for tool, _ in await tool_calls(magpie)]
    assert "You wrote" in (reply.text or "")  # answered without the switched-off tool


@pytest.fixture
async def two_models(
    sandbox: Sandbox, tmp_path: Path, database_url: str, fake_vendors: FakeLLMVendors
) -> AsyncIterator[Harness]:
    """Magpie on OpenAI with Anthropic as the fallback, both served by the fake vendors."""
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    settings = magpie_settings(
        sandbox,
        tmp_path,
        database_url,
        **on_fake_openai(fake_vendors),
        llm_fallback_models="anthropic:claude-haiku-4-5",
        anthropic_base_url=fake_vendors.anthropic_base_url,
        anthropic_api_key=fake_vendors.api_key,
        llm_retries=0,
    )
    async with start(sandbox, account, settings) as harness:
        yield harness


async def test_model_and_persona_per_chat(
    two_models: Harness, fake_vendors: FakeLLMVendors
) -> None:
    h = two_models
    ann = h.sandbox.add_user("Ann")
    menu = await h.reply_to(h.sandbox.people.send_text(ann, h.account, "/model"))
    assert "openai:gpt-4o-mini" in (menu.text or "")
    h.sandbox.people.press_button(ann, menu, "model:anthropic:claude-haiku-4-5")
    await h.settled()
    persona = h.sandbox.people.send_text(ann, h.account, "/persona You are a pirate. Say arr.")
    assert "Persona updated" in ((await h.reply_to(persona)).text or "")
    await h.reply_to(h.sandbox.people.send_text(ann, h.account, "hello"))
    request = fake_vendors.requests[-1]
    assert request.vendor == "anthropic"
    assert request.system_text.startswith("You are a pirate. Say arr.")


async def test_pulling_the_plug_on_the_primary_switches_to_the_fallback(
    two_models: Harness, fake_vendors: FakeLLMVendors
) -> None:
    h = two_models
    unplugged = False

    def answer(request: VendorRequest) -> Step:
        if request.vendor == "openai" and unplugged:
            return Fail(status=503)
        return Reply(f"{request.vendor} here")

    fake_vendors.responder = answer
    ann = h.sandbox.add_user("Ann")
    first = await h.reply_to(h.sandbox.people.send_text(ann, h.account, "hi"))
    assert first.text == "openai here"
    unplugged = True
    second = await h.reply_to(h.sandbox.people.send_text(ann, h.account, "still there?"))
    assert second.text == "anthropic here"
