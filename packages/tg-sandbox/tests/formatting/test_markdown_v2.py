"""parse_mode=MarkdownV2: markers, escaping, links, blockquotes and TDLib's exact errors."""

from __future__ import annotations

import pytest

from tg_sandbox.formatting import EntityParseError, parse_text
from tg_sandbox.formatting.markdown_v2 import parse_markdown_v2


def raw(source: str) -> tuple[str, list[tuple[object, ...]]]:
    """The parser's own output, before normalisation, as comparable tuples."""
    text, entities = parse_markdown_v2(source)
    return text, [
        (e.kind, e.offset, e.length) + ((e.argument,) if e.argument else ()) for e in entities
    ]


def test_every_marker() -> None:
    text, entities = parse_text("*b* _i_ __u__ ~s~ ||p|| `c` ```python\nx = 1\n```", "MarkdownV2")
    assert text == "b i u s p c x = 1"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 1},
        {"type": "italic", "offset": 2, "length": 1},
        {"type": "underline", "offset": 4, "length": 1},
        {"type": "strikethrough", "offset": 6, "length": 1},
        {"type": "spoiler", "offset": 8, "length": 1},
        {"type": "code", "offset": 10, "length": 1},
        {"type": "pre", "offset": 12, "length": 5, "language": "python"},
    ]


def test_pre_without_language_and_escapes_inside_code() -> None:
    assert parse_text("```\na\\`b\\\\c```", "MarkdownV2") == (
        "a`b\\c",
        [{"type": "pre", "offset": 0, "length": 5}],
    )


def test_links_mentions_and_custom_emoji() -> None:
    text, entities = parse_text(
        "[site](https://example.com/a_\\(b\\)) [Ann](tg://user?id=42) ![👍](tg://emoji?id=5)",
        "MarkdownV2",
    )
    assert text == "site Ann 👍"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 4, "url": "https://example.com/a_(b)"},
        {"type": "text_mention", "offset": 5, "length": 3, "user": {"id": 42}},
        {"type": "custom_emoji", "offset": 9, "length": 2, "custom_emoji_id": "5"},
    ]


def test_blockquote_lines_and_expandable_form() -> None:
    assert parse_text(">first\n>second\nafter", "MarkdownV2") == (
        "first\nsecond\nafter",
        [{"type": "blockquote", "offset": 0, "length": 13}],
    )
    assert parse_text("**>hidden\n>more||\nafter", "MarkdownV2") == (
        "hidden\nmore\nafter",
        [{"type": "expandable_blockquote", "offset": 0, "length": 12}],
    )


def test_escaped_characters_are_plain() -> None:
    assert parse_text(r"1\.5 \- a\_b \*c\* \\ \> \#", "MarkdownV2") == (
        r"1.5 - a_b *c* \ > #",
        [],
    )


def test_utf16_offsets_with_emoji() -> None:
    assert parse_text("🏟 🏟_🏟 \\.🏟_", "MarkdownV2") == (
        "🏟 🏟🏟 .🏟",
        [{"type": "italic", "offset": 5, "length": 6}],
    )


@pytest.mark.parametrize("char", list("]()>#+-=|{}.!"))
def test_reserved_characters_must_be_escaped(char: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_text(f"a {char}", "MarkdownV2")
    assert str(raised.value) == (
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )
    assert parse_text(f"a \\{char}", "MarkdownV2") == (f"a {char}", [])


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("🏟 🏟_abacaba", "Can't find end of Italic entity at byte offset 9"),
        ("🏟 🏟_abac * asd ", "Can't find end of Bold entity at byte offset 15"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("🏟 🏟`", "Can't find end of Code entity at byte offset 9"),
        ("🏟 🏟```", "Can't find end of Pre entity at byte offset 9"),
        ("🏟 🏟```a ", "Can't find end of PreCode entity at byte offset 9"),
        ("🏟 🏟__", "Can't find end of Underline entity at byte offset 9"),
        ("~x", "Can't find end of Strikethrough entity at byte offset 0"),
        ("🏟 🏟||test\\|", "Can't find end of Spoiler entity at byte offset 9"),
        ("[x", "Can't find end of TextUrl entity at byte offset 0"),
        ("[telegram\\.org](asd\\)", "Can't find end of a URL at byte offset 16"),
        ("🏟 🏟![", "Can't find end of CustomEmoji entity at byte offset 9"),
        ("🏟 🏟![👍]", "Custom emoji entity must contain a tg://emoji URL"),
        ("🏟 🏟![👍](tg://emoji?id=1234", "Can't find end of a custom emoji URL at byte offset 17"),
        ("🏟 🏟![👍](t://emoji?id=1234)", "Custom emoji URL must have scheme tg"),
        ("🏟 🏟![👍](tg:emojis?id=1234)", 'Custom emoji URL must have host "emoji"'),
        ("🏟 🏟![👍](tg://emoji#test)", "Custom emoji URL must have an emoji identifier"),
        ("🏟 🏟![👍](tg://emoji?test=1231&id=025)", "Invalid custom emoji identifier specified"),
        (">*b\n>ld \n>bo\nld*\nasd\ndef", "Can't find end of Bold entity at byte offset 1"),
        (">\n*a*>2", "Character '>' is reserved and must be escaped with the preceding '\\'"),
        (">asd\n>q||ew\n||asdad", "Can't find end of Spoiler entity at byte offset 7"),
    ],
)
def test_errors_carry_tdlib_messages_and_byte_offsets(source: str, message: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_text(source, "MarkdownV2")
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("\\\\\\\\\\_\\*\\`", ("\\\\_*`", [])),
        ("🏟 🏟``", ("🏟 🏟", [])),
        ("🏟 🏟_🏟 __🏟___", ("🏟 🏟🏟 🏟", [("italic", 5, 5), ("underline", 8, 2)])),
        ("🏟 🏟__🏟 _🏟_\\___", ("🏟 🏟🏟 🏟_", [("underline", 5, 6), ("italic", 8, 2)])),
        ("🏟 🏟```🏟 🏟```", ("🏟 🏟 🏟", [("pre", 5, 3, "🏟")])),
        ("🏟 🏟```🏟\r\n🏟```", ("🏟 🏟🏟", [("pre", 5, 2, "🏟")])),
        (
            "`_* *_`__*` `*__",
            ("_* *_ ", [("code", 0, 5), ("code", 5, 1), ("bold", 5, 1), ("underline", 5, 1)]),
        ),
        ("[ ](as)", (" ", [])),
        ("[telegram\\.org]a", ("telegram.orga", [("text_link", 0, 12, "http://telegram.org/")])),
        (
            "🏟 🏟![👍](TG://EMoJI/?test=1231&id=25#id=32)a",
            ("🏟 🏟👍a", [("custom_emoji", 5, 2, "25")]),
        ),
        ("> \n> \n>", (" \n \n", [("blockquote", 0, 4)])),
        ("\r>a", ("\ra", [("blockquote", 1, 1)])),
        (">\n**>2", ("\n2", [("blockquote", 0, 1), ("blockquote", 1, 1)])),
        (
            ">asd\n>q||e||w||\nasdad",
            ("asd\nqew\nasdad", [("expandable_blockquote", 0, 8), ("spoiler", 5, 1)]),
        ),
        (
            "`>b\n>ld \n>bo\nld`\n>asd\ndef",
            (">b\n>ld \n>bo\nld\nasd\ndef", [("code", 0, 14), ("blockquote", 15, 4)]),
        ),
        (">||", ("", [])),
    ],
)
def test_raw_parser_matches_tdlib_test_vectors(
    source: str, expected: tuple[str, list[tuple[object, ...]]]
) -> None:
    assert raw(source) == expected
