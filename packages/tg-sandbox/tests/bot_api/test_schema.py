"""The Bot API validator catches what the real server would never send."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import aiogram
import pytest

from tests.bot_api import schema, vendor
from tests.bot_api.schema import (
    SchemaViolation,
    check_method_params,
    check_method_result,
    check_object,
    method_names,
)

FULL_SCHEMA = Path("/work/shared/reference/telegram-bot-api-10.3.schema.json")

USER = {"id": 42, "is_bot": False, "first_name": "Ada", "username": "ada", "language_code": "en"}
BOT = {"id": 7000001, "is_bot": True, "first_name": "Magpie", "username": "magpie_bot"}
PRIVATE_CHAT = {"id": 42, "type": "private", "first_name": "Ada", "username": "ada"}
MESSAGE: dict[str, Any] = {
    "message_id": 17,
    "from": USER,
    "chat": PRIVATE_CHAT,
    "date": 1767225600,
    "text": "/start hello",
    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    "forward_origin": {"type": "user", "sender_user": USER, "date": 1767225500},
    "reply_to_message": {
        "message_id": 16,
        "from": BOT,
        "chat": PRIVATE_CHAT,
        "date": 1767225000,
        "text": "Hi!",
    },
}
ADMINISTRATOR = {
    "status": "administrator",
    "user": BOT,
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_send_welcome_messages": False,
}


def message(**changes: object) -> dict[str, Any]:
    """A deep copy of the sample message with top-level fields replaced."""
    return {**copy.deepcopy(MESSAGE), **changes}


def problems_of(method: str, result: object) -> list[str]:
    """The problems check_method_result reports (empty when the result conforms)."""
    try:
        check_method_result(method, result)
    except SchemaViolation as violation:
        return violation.problems
    return []


# --- the vendored schema -------------------------------------------------------------------


def test_vendored_schema_is_bot_api_10_3() -> None:
    assert schema.api_version() == "10.3"
    assert aiogram.__api_version__ == "10.3"


def test_vendored_schema_is_small() -> None:
    assert schema.SCHEMA_FILE.stat().st_size < 300_000


@pytest.mark.skipif(not FULL_SCHEMA.exists(), reason=f"full source schema absent: {FULL_SCHEMA}")
def test_vendored_schema_is_what_vendor_py_produces() -> None:
    source = json.loads(FULL_SCHEMA.read_text(encoding="utf-8"))
    expected = vendor.render(vendor.trim(source))
    assert schema.SCHEMA_FILE.read_text(encoding="utf-8") == expected


def test_every_referenced_type_is_defined() -> None:
    tables = json.loads(schema.SCHEMA_FILE.read_text(encoding="utf-8"))
    expressions = [
        *(spec[0] for t in tables["types"].values() for spec in t.get("fields", {}).values()),
        *(member for t in tables["types"].values() for member in t.get("one_of", [])),
        *(spec[0] for params in tables["methods"].values() for spec in params.values()),
        *(schema.return_type(method) for method in method_names()),
    ]
    for expression in expressions:
        schema._require_known(expression)


def test_method_names_match_aiogram() -> None:
    assert method_names() == set(schema._aiogram_methods())
    assert {"sendMessage", "getUpdates", "getChatMember", "sendMessageDraft"} <= method_names()


def test_unions_carry_their_discriminators() -> None:
    types = json.loads(schema.SCHEMA_FILE.read_text(encoding="utf-8"))["types"]
    assert types["ChatMember"]["one_of"][0] == "ChatMemberOwner"
    assert types["ChatMemberOwner"]["fields"]["status"] == ["String", True, "creator"]
    assert types["InaccessibleMessage"]["fields"]["date"] == ["Integer", True, 0]
    assert types["RichText"]["one_of"][:2] == ["String", "Array of RichText"]


def test_return_types_come_from_aiogram() -> None:
    assert schema.return_type("sendMessage") == "Message"
    assert schema.return_type("editMessageText") == "Message or True"
    assert schema.return_type("getUpdates") == "Array of Update"
    assert schema.return_type("getChatMemberCount") == "Integer"
    assert schema.return_type("getChatAdministrators") == "Array of ChatMember"
    assert schema.return_type("getChatMenuButton") == "MenuButton"


# --- conforming values pass ----------------------------------------------------------------


def test_real_update_batch_passes() -> None:
    updates = [
        {"update_id": 1, "message": message()},
        {
            "update_id": 2,
            "callback_query": {
                "id": "4382",
                "from": USER,
                "message": {"chat": PRIVATE_CHAT, "message_id": 3, "date": 0},
                "chat_instance": "-77",
                "data": "more",
            },
        },
    ]
    check_method_result("getUpdates", updates)


def test_real_results_pass_with_method_name_in_any_case() -> None:
    check_method_result("sendMessage", message())
    check_method_result("GETME", BOT)
    check_method_result("getchatmember", ADMINISTRATOR)
    check_method_result("editMessageText", True)
    check_method_result("getChatMemberCount", 3)
    check_object("ChatMemberAdministrator", ADMINISTRATOR)
    check_object("User", USER)


def test_rich_text_nests_strings_arrays_and_objects() -> None:
    text = ["plain ", {"type": "bold", "text": {"type": "italic", "text": ["deep", " text"]}}]
    check_object("RichText", text)


def test_float_accepts_integers() -> None:
    check_object("Location", {"latitude": 50, "longitude": 30.52})


# --- violations are caught and located -----------------------------------------------------


def test_null_optional_field_is_caught() -> None:
    chat = {**PRIVATE_CHAT, "last_name": None}
    problems = problems_of("sendMessage", message(chat=chat))
    assert "result.chat.last_name: null (the Bot API omits absent fields, never sends null)" in (
        problems
    )


def test_missing_required_field_is_caught() -> None:
    chat = {key: value for key, value in PRIVATE_CHAT.items() if key != "id"}
    problems = problems_of("sendMessage", message(chat=chat))
    assert "result.chat.id: missing required field of Chat" in problems


def test_unknown_field_is_caught() -> None:
    problems = problems_of("sendMessage", message(chat={**PRIVATE_CHAT, "nickname": "ada"}))
    assert problems == ["result.chat.nickname: unknown field of Chat"]


def test_bool_is_not_an_integer() -> None:
    problems = problems_of("sendMessage", message(chat={**PRIVATE_CHAT, "id": True}))
    assert problems == ["result.chat.id: expected Integer, got bool True"]


def test_false_is_not_true() -> None:
    problems = problems_of("deleteMessage", False)
    assert problems == ["result: expected True, got bool False"]


def test_integer_rejects_fractions() -> None:
    with pytest.raises(SchemaViolation, match=r"date: expected Integer, got float 1\.5"):
        check_object("Message", message(date=1.5))


def test_every_problem_is_listed_with_its_array_path() -> None:
    broken = message(chat={"type": "private", "title": None}, edit_date="yesterday")
    problems = problems_of("getUpdates", [{"update_id": 1, "message": broken}])
    assert problems[:3] == [
        "result[0].message.chat.id: missing required field of Chat",
        "result[0].message.chat.title: null (the Bot API omits absent fields, never sends null)",
        "result[0].message.edit_date: expected Integer, got str 'yesterday'",
    ]
    assert problems[3].startswith("result: aiogram cannot parse it:")


def test_wrong_chat_member_status_is_caught() -> None:
    problems = problems_of("getChatMember", {**ADMINISTRATOR, "status": "admin"})
    assert problems[0].startswith("result: fits no member of ChatMember; closest is")
    assert any("aiogram cannot parse it" in problem for problem in problems)


def test_union_reports_the_member_its_discriminator_names() -> None:
    origin = {"type": "user", "sender_user_name": "Ada", "date": 1767225500}
    with pytest.raises(SchemaViolation) as caught:
        check_object("Message", message(forward_origin=origin), path="result")
    assert caught.value.problems == [
        "result.forward_origin: fits no member of MessageOrigin; closest is MessageOriginUser:",
        "result.forward_origin.sender_user_name: unknown field of MessageOriginUser",
        "result.forward_origin.sender_user: missing required field of MessageOriginUser",
    ]


def test_full_message_with_zero_date_is_not_inaccessible() -> None:
    with pytest.raises(SchemaViolation, match="closest is InaccessibleMessage"):
        check_object("MaybeInaccessibleMessage", message(date=0))


def test_violation_message_is_readable() -> None:
    with pytest.raises(SchemaViolation) as caught:
        check_object("User", {**USER, "id": "42"})
    assert str(caught.value) == "User: 1 problem(s)\n  id: expected Integer, got str '42'"


def test_aiogram_parsing_failures_are_reported() -> None:
    problems = problems_of("getMe", "Magpie")
    assert problems[0] == "result: expected User object, got str 'Magpie'"
    assert problems[1].startswith("result: aiogram cannot parse it:")


def test_unknown_type_name_is_a_test_bug() -> None:
    with pytest.raises(ValueError, match=r"'Mesage' is not a Bot API 10\.3 type"):
        check_object("Mesage", {})


# --- requests ------------------------------------------------------------------------------


def test_known_params_pass() -> None:
    check_method_params("sendMessage", {"chat_id": 42, "text": "hi", "parse_mode": "HTML"})


def test_unknown_param_is_caught() -> None:
    with pytest.raises(SchemaViolation, match="parse_mod: not a parameter of sendMessage"):
        check_method_params("sendmessage", {"chat_id": 42, "text": "hi", "parse_mod": "HTML"})


def test_attached_upload_parts_are_not_unknown_params() -> None:
    media = json.dumps([{"type": "photo", "media": "attach://file-1"}])
    check_method_params("sendMediaGroup", {"chat_id": 42, "media": media, "file-1": b"..."})


def test_unknown_method_is_caught() -> None:
    with pytest.raises(SchemaViolation, match=r"sendMesage: not a Bot API 10\.3 method"):
        check_method_params("sendMesage", {})
    with pytest.raises(SchemaViolation, match=r"not a Bot API 10\.3 method"):
        check_method_result("sendMesage", True)
