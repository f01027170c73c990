"""Entities Telegram adds to plain text by itself: commands, mentions, tags, links, e-mails."""

from __future__ import annotations

import pytest

from tg_sandbox.formatting import find_auto_entities, utf16_len, with_auto_entities


def found(text: str) -> list[tuple[str, str]]:
    """(type, covered text) pairs, read back through UTF-16 offsets."""
    units = text.encode("utf-16-le")
    result = []
    for entity in find_auto_entities(text):
        offset, length = entity["offset"], entity["length"]
        assert isinstance(offset, int) and isinstance(length, int)
        result.append(
            (str(entity["type"]), units[2 * offset : 2 * (offset + length)].decode("utf-16-le"))
        )
    return result


def test_a_typical_user_message() -> None:
    text = "/start@magpie_bot hi @durov #news $USD see https://t.me/x or mail me@site.com"
    assert found(text) == [
        ("bot_command", "/start@magpie_bot"),
        ("mention", "@durov"),
        ("hashtag", "#news"),
        ("cashtag", "$USD"),
        ("url", "https://t.me/x"),
        ("email", "me@site.com"),
    ]


def test_offsets_are_utf16_units() -> None:
    entities = find_auto_entities("🏟🏟 /help")
    assert entities == [{"type": "bot_command", "offset": 5, "length": 5}]
    assert utf16_len("🏟🏟 /help") == 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", ["/start"]),
        ("/a@abc", ["/a@abc"]),
        ("/a@b", []),
        ("/test/", []),
        ("a/b", []),
        ("/start_now please", ["/start_now"]),
    ],
)
def test_bot_commands(text: str, expected: list[str]) -> None:
    assert [covered for kind, covered in found(text) if kind == "bot_command"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@mention", ["@mention"]),
        ("no@mention", []),
        ("@abc @gif @vid @ya", ["@gif", "@vid"]),
        ("@abcdefghijklmnopqrstuvwxyz1234567", []),
        ("нет@mention", []),
    ],
)
def test_mentions(text: str, expected: list[str]) -> None:
    assert [covered for kind, covered in found(text) if kind == "mention"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#a", ["#a"]),
        (" #я ", ["#я"]),
        (" #123 ", []),
        (" #123a ", ["#123a"]),
        ("#a#b #c #d", ["#c", "#d"]),
        ("#test@abc", ["#test@abc"]),
        ("#test@ab", ["#test"]),
    ],
)
def test_hashtags(text: str, expected: list[str]) -> None:
    assert [covered for kind, covered in found(text) if kind == "hashtag"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$USD", ["$USD"]),
        ("$usd", []),
        ("$ABCDEFGHJ", []),
        ("$1INCH", ["$1INCH"]),
        ("$ABC$DEF $GHI", ["$GHI"]),
        ("$TEST@abc", ["$TEST@abc"]),
    ],
)
def test_cashtags(text: str, expected: list[str]) -> None:
    assert [covered for kind, covered in found(text) if kind == "cashtag"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("telegram.org", [("url", "telegram.org")]),
        ("(telegram.org)", [("url", "telegram.org")]),
        ("http://telegram.org/?asd=123#123.", [("url", "http://telegram.org/?asd=123#123")]),
        ("test.abd a.ab", []),
        ("127.0.0.1 and 127.0.0.256", [("url", "127.0.0.1")]),
        ("sftp://telegram.org", []),
        ("tg://resolve?domain=x", [("url", "tg://resolve?domain=x")]),
        ("teiegram.org/test", []),
        ("a.bc@c.com", [("email", "a.bc@c.com")]),
        ("www.🤙.tk:1", [("url", "www.🤙.tk:1")]),
        ("http://test.google.com/?q=abc()}[]def", [("url", "http://test.google.com/?q=abc()")]),
    ],
)
def test_urls_and_emails(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


def test_with_auto_entities_keeps_styles_and_skips_code() -> None:
    entities: list[dict[str, object]] = [
        {"type": "italic", "offset": 0, "length": 13},
        {"type": "code", "offset": 14, "length": 6},
    ]
    assert with_auto_entities("@tests @tests @user", entities) == [
        {"type": "mention", "offset": 0, "length": 6},
        {"type": "italic", "offset": 0, "length": 6},
        {"type": "italic", "offset": 6, "length": 1},
        {"type": "mention", "offset": 7, "length": 6},
        {"type": "italic", "offset": 7, "length": 6},
        {"type": "code", "offset": 14, "length": 6},
    ]
