"""parse_mode=HTML: tags, character references, UTF-16 offsets and TDLib's exact errors."""

from __future__ import annotations

import pytest

from tg_sandbox.formatting import EntityParseError, parse_text
from tg_sandbox.formatting.html import parse_html


def raw(source: str) -> tuple[str, list[tuple[object, ...]]]:
    """The parser's own output, before normalisation, as comparable tuples."""
    text, entities = parse_html(source)
    return text, [
        (e.kind, e.offset, e.length) + ((e.argument,) if e.argument else ()) for e in entities
    ]


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("b", "bold"),
        ("strong", "bold"),
        ("i", "italic"),
        ("em", "italic"),
        ("u", "underline"),
        ("ins", "underline"),
        ("s", "strikethrough"),
        ("strike", "strikethrough"),
        ("del", "strikethrough"),
        ("tg-spoiler", "spoiler"),
        ("code", "code"),
        ("pre", "pre"),
        ("blockquote", "blockquote"),
    ],
)
def test_each_simple_tag_makes_its_entity(tag: str, kind: str) -> None:
    assert parse_text(f"x <{tag}>yz</{tag}>", "HTML") == (
        "x yz",
        [{"type": kind, "offset": 2, "length": 2}],
    )


def test_span_tg_spoiler_and_tags_are_case_insensitive() -> None:
    assert parse_text('<SPAN class="tg-spoiler">a</Span><B>b</b>', "html") == (
        "ab",
        [{"type": "spoiler", "offset": 0, "length": 1}, {"type": "bold", "offset": 1, "length": 1}],
    )


def test_links_mentions_and_custom_emoji() -> None:
    text, entities = parse_text(
        '<a href="https://example.com/a?b=1&amp;c=2">site</a> '
        '<a href="tg://user?id=42">Ann</a> <tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
        "HTML",
    )
    assert text == "site Ann 👍"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 4, "url": "https://example.com/a?b=1&c=2"},
        {"type": "text_mention", "offset": 5, "length": 3, "user": {"id": 42}},
        {
            "type": "custom_emoji",
            "offset": 9,
            "length": 2,
            "custom_emoji_id": "5368324170671202286",
        },
    ]


def test_invalid_link_is_dropped_silently_and_a_without_href_uses_its_text() -> None:
    assert parse_text('<a href="nodot">x</a> <a>telegram.org</a>', "HTML") == (
        "x telegram.org",
        [{"type": "text_link", "offset": 2, "length": 12, "url": "http://telegram.org/"}],
    )


def test_pre_with_code_language() -> None:
    assert parse_text('<pre><code class="language-python">print(1)</code></pre>', "HTML") == (
        "print(1)",
        [{"type": "pre", "offset": 0, "length": 8, "language": "python"}],
    )


def test_code_language_outside_pre_is_forgotten() -> None:
    assert parse_text('<code class="language-python">x</code>', "HTML") == (
        "x",
        [{"type": "code", "offset": 0, "length": 1}],
    )


def test_expandable_blockquote() -> None:
    assert parse_text("<blockquote expandable>long\nquote</blockquote>", "HTML") == (
        "long\nquote",
        [{"type": "expandable_blockquote", "offset": 0, "length": 10}],
    )


def test_character_references() -> None:
    text, _ = parse_text("&lt;&gt;&amp;&quot; &#65;&#x42;&#x1F3DF; &nbsp; &#0; &lt", "HTML")
    assert text == '<>&" AB🏟 &nbsp; &#0; <'


def test_utf16_offsets_count_emoji_as_two_units() -> None:
    assert parse_text("🏟 🏟<b>🏟 x</b>", "HTML") == (
        "🏟 🏟🏟 x",
        [{"type": "bold", "offset": 5, "length": 4}],
    )


def test_nested_bold_is_split_around_italic_as_telegram_returns_it() -> None:
    assert parse_text("<b>bold <i>both</i></b>", "HTML")[1] == [
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "bold", "offset": 5, "length": 4},
        {"type": "italic", "offset": 5, "length": 4},
    ]


def test_tg_time() -> None:
    assert parse_text('<tg-time unix="1647531900" format="wDT">soon</tg-time>', "HTML") == (
        "soon",
        [
            {
                "type": "date_time",
                "offset": 0,
                "length": 4,
                "unix_time": 1647531900,
                "date_time_format": "wDT",
            }
        ],
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba>", 'Can\'t find end tag corresponding to start tag "i"'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
        ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
        ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
        ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
        (
            "🏟 🏟&lt;<i>a</em   >",
            'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"',
        ),
        ("<b>a</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<span class="x">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<tg-emoji emoji-id="0">x</tg-emoji>', "Invalid custom emoji identifier specified"),
        ('<tg-time unix="5" format="x">x</tg-time>', "Invalid date format used"),
        (
            "&#57311;",
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units",
        ),
    ],
)
def test_errors_carry_tdlib_messages_and_byte_offsets(source: str, message: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_text(source, "HTML")
    assert str(raised.value) == message
    assert raised.value.description == "Bad Request: can't parse entities: " + message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "&ge;&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;",
            ('&ge;<>&"&laquo;&raquo;&#12345678;', []),
        ),
        ("🏟 🏟<i>🏟 &lt🏟</i>", ("🏟 🏟🏟 <🏟", [("italic", 5, 6)])),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.   >a</i>", ("🏟 🏟<a", [("italic", 6, 1)])),
        ("🏟 🏟&lt;<i    aba  =  '&lt;&gt;&quot;'>a</>", ("🏟 🏟<a", [("italic", 6, 1)])),
        ("🏟 🏟&lt;<i>a</    >", ("🏟 🏟<a", [("italic", 6, 1)])),
        ("<i>\t</i>", ("\t", [("italic", 0, 1)])),
        ("<a>telegram.org </a>", ("telegram.org ", [])),
        (
            "<a   href=  'telegram.org?&lt;'   > </a>",
            (" ", [("text_link", 0, 1, "http://telegram.org/?<")]),
        ),
        (
            "<i><b> </b> <code> </code></i>",
            ("   ", [("italic", 0, 3), ("bold", 0, 1), ("code", 2, 1)]),
        ),
        (
            '🏟 🏟&lt;<pre><code class="language-fift">🏟 🏟&lt;</> </>',
            ("🏟 🏟<🏟 🏟< ", [("pre", 6, 7), ("code", 6, 6)]),
        ),
        (
            '🏟 🏟&lt;<code class="language-fift"><pre>🏟 🏟&lt;</></>',
            ("🏟 🏟<🏟 🏟<", [("pre", 6, 6, "fift")]),
        ),
        (
            '<blockquote   cite="" askdlbas nasjdbaj nj12b3>a&lt;<pre  >b;</></>',
            ("a<b;", [("blockquote", 0, 4), ("pre", 2, 2)]),
        ),
        (
            "<blockquote   expandable=false>a&lt;<pre  >b;</></>",
            ("a<b;", [("expandable_blockquote", 0, 4), ("pre", 2, 2)]),
        ),
    ],
)
def test_raw_parser_matches_tdlib_test_vectors(
    source: str, expected: tuple[str, list[tuple[object, ...]]]
) -> None:
    assert raw(source) == expected
