"""parse_mode=Markdown (legacy): *bold* _italic_ `code` ```pre``` [text](url)."""

from __future__ import annotations

import pytest

from tg_sandbox.formatting import EntityParseError, parse_text


def test_every_marker() -> None:
    text, entities = parse_text(
        "*bold* _italic_ `code` [link](https://example.com) ```js\nlet x```", "Markdown"
    )
    assert text == "bold italic code link let x"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 5, "length": 6},
        {"type": "code", "offset": 12, "length": 4},
        {"type": "text_link", "offset": 17, "length": 4, "url": "https://example.com/"},
        {"type": "pre", "offset": 22, "length": 5, "language": "js"},
    ]


def test_markers_inside_an_entity_are_plain_text() -> None:
    assert parse_text("*a_b* \\_c\\*", "Markdown") == (
        "a_b _c*",
        [{"type": "bold", "offset": 0, "length": 3}],
    )


def test_other_markdown_v2_characters_need_no_escaping() -> None:
    assert parse_text("1.5 - (a) > b! #c", "markdown") == ("1.5 - (a) > b! #c", [])


def test_mention_link_and_utf16_offsets() -> None:
    assert parse_text("🏟 [Ann](tg://user?id=7)", "Markdown") == (
        "🏟 Ann",
        [{"type": "text_mention", "offset": 3, "length": 3, "user": {"id": 7}}],
    )


def test_bracket_link_without_url_reads_tdlibs_half_rewritten_buffer() -> None:
    """TDLib takes the URL of `[text]` from the text it is rewriting in place."""
    assert parse_text("[telegram.org]", "Markdown")[1] == [
        {"type": "text_link", "offset": 0, "length": 12, "url": "http://elegram.orgg/"}
    ]
    assert parse_text("*a* [telegram.org]", "Markdown")[1][1] == {
        "type": "text_link",
        "offset": 2,
        "length": 12,
        "url": "http://egram.orgorg/",
    }


@pytest.mark.parametrize(
    ("source", "offset"),
    [("*bold", 0), ("ab _it", 3), ("🏟 `x", 5), ("[link", 0), ("```py\nx``", 0)],
)
def test_unclosed_entity(source: str, offset: int) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_text(source, "Markdown")
    assert str(raised.value) == f"Can't find end of the entity starting at byte offset {offset}"
