"""The control surface over HTTP: what the web chat page and benchmarks use."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
from aiogram import Bot

from tests.conftest import until
from tg_sandbox import Sandbox


async def control(
    sandbox: Sandbox, verb: str, path: str, body: dict[str, Any] | None = None
) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.request(verb, f"{sandbox.url}/sandbox/api{path}", json=body) as response,
    ):
        data = await response.json()
        assert data["ok"], data
        return data["result"]


async def test_a_whole_scene_set_up_and_played_over_http(sandbox: Sandbox, bot: Bot) -> None:
    ann = await control(sandbox, "POST", "/users", {"first_name": "Ann", "username": "ann"})
    bob = await control(sandbox, "POST", "/users", {"first_name": "Bob"})
    group = await control(
        sandbox,
        "POST",
        "/groups",
        {"title": "Forum", "member_ids": [ann["id"], bob["id"]], "forum": True},
    )
    await control(
        sandbox, "POST", f"/groups/{group['id']}/members", {"bot": "magpie_bot", "admin": True}
    )
    topic = await control(
        sandbox, "POST", f"/groups/{group['id']}/topics", {"name": "Plans", "user_id": ann["id"]}
    )
    said = await control(
        sandbox,
        "POST",
        "/send",
        {
            "user_id": bob["id"],
            "chat_id": group["id"],
            "text": "hi @magpie_bot",
            "thread_id": topic["message_thread_id"],
        },
    )
    assert said["message_thread_id"] == topic["message_thread_id"]
    await control(
        sandbox,
        "POST",
        "/send",
        {
            "user_id": ann["id"],
            "bot": "magpie_bot",
            "kind": "photo",
            "data_base64": base64.b64encode(b"img").decode(),
            "caption": "look",
        },
    )
    updates = await bot.get_updates()
    assert any(u.message and u.message.text == "hi @magpie_bot" for u in updates)
    assert any(u.message and u.message.photo and u.message.caption == "look" for u in updates)
    await bot.send_message(ann["id"], "nice photo")
    view = await control(sandbox, "GET", f"/chat?bot=magpie_bot&user_id={ann['id']}")
    assert [m.get("text") or m.get("caption") for m in view["messages"]] == ["look", "nice photo"]
    calls = await control(sandbox, "GET", "/transcript?method=sendMessage")
    assert [c["params"]["text"] for c in calls] == ["nice photo"]
    state = await control(sandbox, "GET", "/state")
    assert {u["first_name"] for u in state["users"]} == {"Ann", "Bob"}


async def test_faults_and_reset_over_http(sandbox: Sandbox, bot: Bot) -> None:
    await control(sandbox, "POST", "/faults", {"method": "getMe", "status": 500, "times": 1})
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.url}/bot{bot.token}/getMe") as response:
            assert response.status == 500
        async with http.post(f"{sandbox.url}/sandbox/api/send", json={"user_id": 1}) as response:
            assert response.status == 400
            assert (await response.json())["ok"] is False
    await control(sandbox, "POST", "/reset")
    state = await control(sandbox, "GET", "/state")
    assert state["users"] == [] and [b["username"] for b in state["bots"]] == ["magpie_bot"]


async def test_manual_clock_moves_over_http(sandbox: Sandbox) -> None:
    before = sandbox.world.clock.now()
    assert await control(sandbox, "POST", "/clock", {"seconds": 30}) == before + 30


async def test_a_page_can_wait_for_the_next_change(sandbox: Sandbox, bot: Bot) -> None:
    ann = sandbox.add_user("Ann")
    sandbox.people.send_text(ann, sandbox.bot(), "hi")
    version = (await control(sandbox, "GET", "/wait?version=0&timeout=0"))["version"]
    waiting = asyncio.create_task(control(sandbox, "GET", f"/wait?version={version}&timeout=20"))
    await until(lambda: bool(sandbox.world._change_waiters))
    await bot.send_message(ann.id, "news")
    assert (await asyncio.wait_for(waiting, 5))["version"] > version
