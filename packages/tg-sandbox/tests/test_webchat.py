"""The web chat page and its assets are served next to the Bot API; what the page discovers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import until
from tests.friends import friends
from tg_sandbox import Sandbox
from tg_sandbox.server import build_app

TOKEN = "7000000001:SANDBOX-test-token"


Client = TestClient[web.Request, web.Application]


@pytest.fixture
def fresh() -> Sandbox:
    """A sandbox that is not listening: the test client serves its app."""
    sandbox = Sandbox()
    sandbox.add_bot(token=TOKEN, username="magpie_bot")
    return sandbox


@pytest.fixture
async def client(fresh: Sandbox) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(fresh))) as running:
        yield running


async def test_the_page_is_served_at_the_root(client: Client) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    page = await response.text()
    for testid in ("chat-list", "identity-select", "composer", "send-button", "message-list"):
        assert f'data-testid="{testid}"' in page
    assert "/static/app.js" in page and "/static/style.css" in page
    assert "http://" not in page and "https://" not in page  # offline: nothing from a CDN


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.js", "text/javascript"),
        ("dom.js", "text/javascript"),
        ("entities.js", "text/javascript"),
        ("messages.js", "text/javascript"),
        ("style.css", "text/css"),
        ("index.html", "text/html"),
    ],
)
async def test_assets_are_served_with_their_content_types(
    client: Client, name: str, content_type: str
) -> None:
    response = await client.get(f"/static/{name}")
    assert response.status == 200
    assert response.content_type == content_type
    assert response.charset == "utf-8"
    assert len(await response.read()) > 100


@pytest.mark.parametrize(
    "path", ["/static/missing.js", "/static/..%2Froutes.py", "/static/.hidden.js", "/static/"]
)
async def test_nothing_else_is_served_from_static(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 404


@pytest.mark.parametrize("name", ["app.js", "dom.js", "entities.js", "messages.js"])
async def test_the_scripts_never_turn_text_into_html(client: Client, name: str) -> None:
    script = await (await client.get(f"/static/{name}")).text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


async def test_bot_api_and_control_routes_still_answer(
    client: Client,
) -> None:
    me = await (await client.get(f"/bot{TOKEN}/getMe")).json()
    assert me["ok"] and me["result"]["username"] == "magpie_bot"
    state = await (await client.get("/sandbox/api/state")).json()
    assert state["ok"] and state["result"]["bots"][0]["username"] == "magpie_bot"
    unknown = await client.get("/no/such/path")
    assert unknown.status == 404
    assert (await unknown.json())["ok"] is False


async def test_the_people_and_chats_are_what_the_page_discovers(
    client: Client, fresh: Sandbox
) -> None:
    scene = friends(fresh, fresh.bot())
    state = (await (await client.get("/sandbox/api/state")).json())["result"]
    assert [u["first_name"] for u in state["users"]] == ["You", "Ann", "Bob", "Chloe"]
    assert [g["title"] for g in state["groups"]] == ["Weekend trip", "Book club"]
    club = state["groups"][1]
    assert [t["name"] for t in club["topics"]] == ["Fantasy", "Sci-fi"]
    assert club["id"] == scene.book_club


async def test_stopping_the_server_answers_a_pending_long_poll_at_once(fresh: Sandbox) -> None:
    """Regression: an open page's pending /wait held up stopping the sandbox by seconds."""
    await fresh.start()
    try:
        async with aiohttp.ClientSession() as http:
            url = f"{fresh.url}/sandbox/api/wait?version={fresh.world.version}&timeout=25"
            poll = asyncio.create_task(http.get(url))
            await until(lambda: bool(fresh.world._change_waiters))
            async with asyncio.timeout(1):
                await fresh.stop()
                response = await poll
            assert (await response.json())["ok"] is True
    finally:
        await fresh.stop()
