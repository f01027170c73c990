"""The entities / caption_entities parameter, with the Bot API server's exact complaints."""

from __future__ import annotations

import json

import pytest

from tg_sandbox.formatting import (
    InvalidEntitiesError,
    MessageEntityError,
    format_text,
    normalize,
    parse_entities_param,
)


def param(*entities: object) -> str:
    return json.dumps(list(entities))


def test_valid_entities_come_back_as_bot_api_dicts() -> None:
    raw = param(
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "pre", "offset": 6, "length": 5, "language": "py"},
        {"type": "text_link", "offset": 0, "length": 5, "url": "example.com"},
        {"type": "text_link", "offset": 6, "length": 5, "url": "tg://user?id=9"},
        {"type": "text_mention", "offset": 0, "length": 1, "user": {"id": 8, "is_bot": False}},
        {"type": "custom_emoji", "offset": 0, "length": 1, "custom_emoji_id": "77"},
    )
    assert parse_entities_param("hello world", raw) == [
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "pre", "offset": 6, "length": 5, "language": "py"},
        {"type": "text_link", "offset": 0, "length": 5, "url": "http://example.com/"},
        {"type": "text_mention", "offset": 6, "length": 5, "user": {"id": 9}},
        {"type": "text_mention", "offset": 0, "length": 1, "user": {"id": 8}},
        {"type": "custom_emoji", "offset": 0, "length": 1, "custom_emoji_id": "77"},
    ]


def test_numbers_may_be_strings_and_auto_types_are_ignored() -> None:
    raw = param(
        {"type": "url", "offset": 0, "length": 1},
        {"type": "mention", "offset": 0, "length": 1},
        {"type": "italic", "offset": "1", "length": "2"},
    )
    assert parse_entities_param("hello", raw) == [{"type": "italic", "offset": 1, "length": 2}]


@pytest.mark.parametrize("raw", ["", "not json", '{"type": "bold"}', "[1, 2"])
def test_unparsable_or_non_array_json_is_ignored(raw: str) -> None:
    assert parse_entities_param("hello", raw) == []


@pytest.mark.parametrize(
    ("entity", "message"),
    [
        ("bold", "expected an Object"),
        ({"type": "bold", "length": 1}, 'Can\'t find field "offset"'),
        ({"type": "bold", "offset": 0}, 'Can\'t find field "length"'),
        ({"type": "bold", "offset": True, "length": 1}, 'Field "offset" must be a Number'),
        ({"type": "bold", "offset": "x", "length": 1}, 'Field "offset" must be a valid Number'),
        ({"type": "bold", "offset": 1.5, "length": 1}, 'Field "offset" must be a valid Number'),
        ({"offset": 0, "length": 1}, 'Can\'t find field "type"'),
        ({"type": "", "offset": 0, "length": 1}, "Type is not specified"),
        ({"type": ["bold"], "offset": 0, "length": 1}, 'Field "type" must be of type String'),
        ({"type": "sparkle", "offset": 0, "length": 1}, "Unsupported type specified"),
        ({"type": "text_link", "offset": 0, "length": 1}, 'Can\'t find field "url"'),
        ({"type": "text_mention", "offset": 0, "length": 1}, 'Can\'t find field "user"'),
        (
            {"type": "text_mention", "offset": 0, "length": 1, "user": 5},
            'Field "user" must be of type Object',
        ),
        (
            {"type": "custom_emoji", "offset": 0, "length": 1, "custom_emoji_id": "x"},
            'Field "custom_emoji_id" must be a valid Number',
        ),
        (
            {"type": "pre", "offset": 0, "length": 1, "language": None},
            'Field "language" must be of type String',
        ),
    ],
)
def test_malformed_elements(entity: object, message: str) -> None:
    with pytest.raises(MessageEntityError) as raised:
        parse_entities_param("hello", param(entity))
    assert str(raised.value) == message
    assert raised.value.description == "Bad Request: can't parse MessageEntity: " + message


@pytest.mark.parametrize(
    ("entity", "description"),
    [
        (
            {"type": "text_link", "offset": 0, "length": 2, "url": "nodot"},
            "Bad Request: entity URL 'nodot' is invalid: Wrong HTTP URL",
        ),
        (
            {"type": "text_link", "offset": 0, "length": 2, "url": "ftp://a.com"},
            "Bad Request: entity URL 'ftp://a.com' is invalid: Unsupported URL protocol",
        ),
        (
            {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": 0},
            "Bad Request: invalid custom emoji identifier specified",
        ),
        (
            {"type": "bold", "offset": 3, "length": 5},
            "Bad Request: entity beginning at UTF-16 offset 3 ends after the end of the text "
            "at UTF-16 offset 8",
        ),
    ],
)
def test_entities_telegram_refuses_after_reading_them(entity: object, description: str) -> None:
    with pytest.raises(InvalidEntitiesError) as raised:
        parse_entities_param("hello", param(entity))
    assert raised.value.description == description


def test_parameter_entities_then_normalise() -> None:
    text = "  hello  "
    entities = parse_entities_param(text, param({"type": "bold", "offset": 2, "length": 7}))
    assert normalize(text, entities) == ("hello", [{"type": "bold", "offset": 0, "length": 5}])


def test_format_text_lets_parse_mode_win_over_entities() -> None:
    entities = param({"type": "bold", "offset": 0, "length": 1})
    assert format_text("<i>a</i>", "HTML", entities) == (
        "a",
        [{"type": "italic", "offset": 0, "length": 1}],
    )
    assert format_text("<i>a</i>", "none", entities) == (
        "<i>a</i>",
        [{"type": "bold", "offset": 0, "length": 1}],
    )
