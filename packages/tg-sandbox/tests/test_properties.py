"""Fuzzing: random parameters and bodies never crash the sandbox or break the envelope."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bot_api.schema import SCHEMA_FILE, check_method_result
from tests.conftest import TOKEN
from tg_sandbox import Sandbox
from tg_sandbox.api import BotApi
from tg_sandbox.bots import BotAccount
from tg_sandbox.flood import FloodPolicy
from tg_sandbox.methods.table import METHODS
from tg_sandbox.params import Params
from tg_sandbox.world import World

METHOD_PARAMS: dict[str, dict[str, Any]] = json.loads(SCHEMA_FILE.read_text())["methods"]


class NoWebhooks:
    """Fuzzed setWebhook calls must not start real deliveries to random hosts."""

    def restart(self, bot: BotAccount) -> None:
        return None


def scene() -> tuple[World, BotApi, dict[str, int]]:
    world = World(flood=FloodPolicy(enabled=False))
    bot = world.add_bot(TOKEN, username="magpie_bot")
    ann = world.add_user("Ann")
    private = world.private_chat(bot, ann)
    ann.started_bots.add(bot.id)
    group = world.add_group("G", forum=True, creator=ann)
    world.set_member_status(
        group, bot.user, "administrator", by=ann, rights=frozenset({"can_manage_topics"})
    )
    world.post(private, ann, {"text": "hello"})
    world.post(group, ann, {"text": "hi all"})
    topic = world.create_topic(group, "T", by=ann)
    return (
        world,
        BotApi(world, NoWebhooks()),
        {"user": ann.id, "group": group.id, "topic": topic.thread_id},
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def param_values(ids: dict[str, int]) -> st.SearchStrategy[str]:
    known = st.sampled_from([str(v) for v in ids.values()] + ["1", "2", "0", "-1", "@g", ""])
    return known | st.text(max_size=60) | json_values.map(lambda v: json.dumps(v))


@st.composite
def calls(draw: st.DrawFn, ids: dict[str, int]) -> tuple[str, dict[str, str]]:
    method = draw(st.sampled_from(sorted(METHODS)))
    names = list(METHOD_PARAMS.get(method, {}))
    keys = draw(st.lists(st.sampled_from(names or ["x"]), max_size=6, unique=True))
    params = {key: draw(param_values(ids)) for key in keys}
    if method == "getUpdates":
        params["timeout"] = "0"
    return method, params


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_calls_never_crash_and_keep_the_envelope(data: st.DataObject) -> None:
    _, api, ids = scene()
    method, params = data.draw(calls(ids))
    reply = asyncio.run(api.call(TOKEN, method, Params.of(params)))
    assert reply.status != 500, (method, params, reply.body)
    body: dict[str, Any] = reply.body
    if body["ok"]:
        assert set(body) <= {"ok", "result", "description"} and reply.status == 200
        check_method_result(method, body["result"])
    else:
        assert set(body) <= {"ok", "error_code", "description", "parameters"}
        assert body["error_code"] == reply.status and isinstance(body["description"], str)
        assert body["description"].split(":")[0] in {
            "Bad Request",
            "Forbidden",
            "Not Found",
            "Unauthorized",
            "Conflict",
            "Too Many Requests",
        }


CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "text/plain",
    "",
]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(["getMe", "sendMessage", "getUpdates", "setWebhook", "sendPhoto", "x"]),
    content_type=st.sampled_from(CONTENT_TYPES),
    body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    query=st.dictionaries(
        st.sampled_from(["chat_id", "text", "timeout", "offset"]), st.text(max_size=20), max_size=3
    ),
)
async def test_random_http_bodies_never_break_the_envelope(
    sandbox: Sandbox, method: str, content_type: str, body: bytes, query: dict[str, str]
) -> None:
    query = query | {"timeout": "0"}
    headers = {"Content-Type": content_type} if content_type else {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{sandbox.url}/bot{TOKEN}/{method}", data=body, params=query, headers=headers
        ) as response,
    ):
        assert response.status < 500, await response.text()
        envelope = json.loads(await response.read())
    assert envelope["ok"] is (response.status == 200)
    if not envelope["ok"]:
        assert envelope["error_code"] == response.status
        assert isinstance(envelope["description"], str) and envelope["description"]
