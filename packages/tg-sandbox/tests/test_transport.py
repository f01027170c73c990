"""The HTTP envelope, routing and parameter encodings, checked with raw requests."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.bot_api.schema import method_names
from tests.conftest import TOKEN
from tg_sandbox import Sandbox
from tg_sandbox.methods.table import METHODS


async def raw(
    sandbox: Sandbox, path: str, **kwargs: object
) -> tuple[int, dict[str, object], aiohttp.typedefs.LooseHeaders]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(sandbox.url + path, **kwargs) as response,  # type: ignore[arg-type]
    ):
        return response.status, json.loads(await response.read()), response.headers


async def test_unknown_method_is_404_method_not_found(sandbox: Sandbox) -> None:
    status, body, _ = await raw(sandbox, f"/bot{TOKEN}/sendTelepathy")
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}


async def test_method_names_are_case_insensitive_and_test_prefix_works(sandbox: Sandbox) -> None:
    for path in (f"/bot{TOKEN}/GETME", f"/bot{TOKEN}/getme", f"/bot{TOKEN}/test/getMe"):
        status, body, _ = await raw(sandbox, path)
        assert status == 200
        assert body["ok"] is True
        assert body["result"]["username"] == "magpie_bot"  # type: ignore[index]


async def test_the_transcript_spells_a_method_as_the_bot_api_does(sandbox: Sandbox) -> None:
    await raw(sandbox, f"/bot{TOKEN}/GETME")
    await raw(sandbox, f"/bot{TOKEN}/sendmessage", data={"chat_id": "1", "text": "x"})
    assert [entry.method for entry in sandbox.transcript()] == ["getMe", "sendMessage"]


def test_every_method_in_the_table_is_a_bot_api_10_3_method() -> None:
    assert set(METHODS) - method_names() == set()
    assert {"getUpdates", "sendMessage", "sendMessageDraft", "sendInvoice"} <= set(METHODS)


async def test_bad_and_unknown_tokens_are_unauthorized(sandbox: Sandbox) -> None:
    status, body, _ = await raw(sandbox, "/bot0123:abc/getMe")
    assert (status, body["description"]) == (401, "Unauthorized: invalid token specified")
    status, body, _ = await raw(sandbox, "/bot999:unknown/getMe")
    assert (status, body["description"]) == (401, "Unauthorized")


async def test_unknown_path_is_plain_not_found(sandbox: Sandbox) -> None:
    status, body, _ = await raw(sandbox, "/nothing/here")
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}


@pytest.mark.parametrize("encoding", ["query", "form", "json", "multipart"])
async def test_parameters_arrive_in_every_encoding(sandbox: Sandbox, encoding: str) -> None:
    user = sandbox.add_user("Ann")
    sandbox.people.send_text(user, sandbox.bot(), "hi")
    params = {"chat_id": str(user.id), "text": "hello *there*", "parse_mode": "MarkdownV2"}
    path = f"/bot{TOKEN}/sendMessage"
    if encoding == "query":
        status, body, _ = await raw(sandbox, path, params=params)
    elif encoding == "form":
        status, body, _ = await raw(sandbox, path, data=params)
    elif encoding == "json":
        status, body, _ = await raw(sandbox, path, json=params | {"chat_id": user.id})
    else:
        form = aiohttp.FormData()
        for key, value in params.items():
            form.add_field(key, value)
        form.add_field("unused", b"bytes", filename="x.bin")
        status, body, _ = await raw(sandbox, path, data=form)
    assert status == 200, body
    result = body["result"]
    assert result["text"] == "hello there"  # type: ignore[index]
    assert result["entities"] == [{"type": "bold", "offset": 6, "length": 5}]  # type: ignore[index]


async def test_errors_use_the_status_code_and_never_null_fields(sandbox: Sandbox) -> None:
    status, body, _ = await raw(sandbox, f"/bot{TOKEN}/sendMessage", data={"text": "x"})
    assert status == 400
    assert body == {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"}
    assert "null" not in json.dumps(body)


async def test_429_carries_retry_after_header_and_parameter(sandbox: Sandbox) -> None:
    sandbox.inject("getMe", status=429, retry_after=7)
    status, body, headers = await raw(sandbox, f"/bot{TOKEN}/getMe")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert headers["Retry-After"] == "7"  # type: ignore[index]
