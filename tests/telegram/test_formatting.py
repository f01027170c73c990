"""Markdown → Telegram text + entities, and splitting long replies into messages."""

from itertools import accumulate

import pytest
from aiogram.types import MessageEntity
from hypothesis import given, settings
from hypothesis import strategies as st

from magpie.telegram.formatting import Formatted, render_markdown, utf16_len
from magpie.telegram.splitting import split_for_telegram


def u16_slice(text: str, offset: int, length: int) -> str:
    """The part of `text` an entity covers, cut in UTF-16 code units as Telegram does."""
    raw = text.encode("utf-16-le", "surrogatepass")
    return raw[2 * offset : 2 * (offset + length)].decode("utf-16-le", "surrogatepass")


def seen(formatted: Formatted) -> list[tuple[str, str, str | None, str | None]]:
    """What a user would see formatted: entity type, covered text, url, language."""
    return [
        (e.type, u16_slice(formatted.text, e.offset, e.length), e.url, e.language)
        for e in formatted.entities
    ]


@pytest.mark.parametrize(
    ("markdown", "text", "entities"),
    [
        ("**bold** and __bold__", "bold and bold", [("bold", "bold"), ("bold", "bold")]),
        ("*em* and _em_", "em and em", [("italic", "em"), ("italic", "em")]),
        ("~~gone~~", "gone", [("strikethrough", "gone")]),
        ("run `ls -la` now", "run ls -la now", [("code", "ls -la")]),
        ("    indented\n    code", "indented\ncode", [("pre", "indented\ncode")]),
        ("# Title", "Title", [("bold", "Title")]),
        ("Setext\n===", "Setext", [("bold", "Setext")]),
        ("> quoted\n> text", "quoted\ntext", [("blockquote", "quoted\ntext")]),
        ("a\n\n---\n\nb", "a\n\n———\n\nb", []),
        ("one\n\n\n\ntwo", "one\n\ntwo", []),
        ("1. a\n1. b", "1. a\n2. b", []),
        ("<b>raw</b> html", "<b>raw</b> html", []),
        ("<div>\nblock\n</div>", "<div>\nblock\n</div>", []),
        ("see <https://example.com>", "see https://example.com", []),
        ("see https://example.com", "see https://example.com", []),
        ("[local](page.html) [ftp](ftp://x.org)", "local ftp", []),
        ("**a `b` c**", "a b c", [("bold", "a "), ("code", "b"), ("bold", " c")]),
        ("***both***", "both", [("bold", "both"), ("italic", "both")]),
    ],
)
def test_mapping(markdown: str, text: str, entities: list[tuple[str, str]]) -> None:
    formatted = render_markdown(markdown)
    assert formatted.text == text
    assert [(kind, covered) for kind, covered, _, _ in seen(formatted)] == entities


def test_fenced_code_keeps_language_and_text_verbatim() -> None:
    formatted = render_markdown("Look:\n\n```python\ndef f():\n    return  1\n```\n\nDone.")
    assert formatted.text == "Look:\n\ndef f():\n    return  1\n\nDone."
    assert seen(formatted) == [("pre", "def f():\n    return  1", None, "python")]


def test_fence_without_language_and_with_markdown_inside() -> None:
    formatted = render_markdown("```\n**not bold**\n```")
    assert seen(formatted) == [("pre", "**not bold**", None, None)]


def test_links_and_images_become_text_links() -> None:
    formatted = render_markdown(
        "[docs](https://a.io/x) ![a cat](http://img.io/c.png) [me](tg://user?id=1)"
    )
    assert formatted.text == "docs a cat me"
    assert seen(formatted) == [
        ("text_link", "docs", "https://a.io/x", None),
        ("text_link", "a cat", "http://img.io/c.png", None),
        ("text_link", "me", "tg://user?id=1", None),
    ]


def test_code_inside_link_keeps_the_link_only() -> None:
    formatted = render_markdown("[`api` docs](https://a.io) and [mail](mailto:a@b.io)")
    assert seen(formatted) == [
        ("text_link", "api docs", "https://a.io", None),
        ("text_link", "mail", "mailto:a@b.io", None),
    ]


def test_lists_bullets_numbers_and_nesting() -> None:
    formatted = render_markdown("- one\n- two\n  - inner\n    1. deep\n- three\n\n3. c\n4. d")
    assert formatted.text == "• one\n• two\n  • inner\n    1. deep\n• three\n\n3. c\n4. d"


def test_ordered_list_keeps_the_models_start_number_and_delimiter() -> None:
    assert render_markdown("0. zero\n0. one").text == "0. zero\n1. one"
    assert render_markdown("7) seven\n8) eight").text == "7) seven\n8) eight"


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=999_999_998), st.sampled_from([".", ")"]))
def test_an_ordered_list_counts_on_from_its_first_number(start: int, delimiter: str) -> None:
    formatted = render_markdown(f"{start}{delimiter} first\n{start}{delimiter} second")
    assert formatted.text == f"{start}{delimiter} first\n{start + 1}{delimiter} second"


def test_loose_list_keeps_blank_lines_and_indents_continuation() -> None:
    formatted = render_markdown("- first\n\n  more\n- second\n  line")
    assert formatted.text == "• first\n\n  more\n\n• second\n  line"


def test_nested_blockquotes_become_one_blockquote() -> None:
    formatted = render_markdown("> outer **b**\n>\n> > inner")
    assert formatted.text == "outer b\n\ninner"
    assert [e.type for e in formatted.entities] == ["blockquote", "bold"]


def test_table_kept_as_source_in_pre() -> None:
    formatted = render_markdown("Scores:\n\n| a | b |\n|---|--:|\n| **1** | 2 |\n\nEnd")
    assert formatted.text == "Scores:\n\n| a | b |\n|---|--:|\n| **1** | 2 |\n\nEnd"
    assert seen(formatted) == [("pre", "| a | b |\n|---|--:|\n| **1** | 2 |", None, None)]


def test_emoji_offsets_are_utf16() -> None:
    formatted = render_markdown("😀 **b😀** `🚀` [🇺🇦](https://u.a)")
    assert formatted.text == "😀 b😀 🚀 🇺🇦"
    assert [(e.type, e.offset, e.length) for e in formatted.entities] == [
        ("bold", 3, 3),
        ("code", 7, 2),
        ("text_link", 10, 4),
    ]
    assert utf16_len(formatted.text) == 14
    assert utf16_len("") == 0


def test_partial_markdown_unclosed_fence_renders_as_pre() -> None:
    formatted = render_markdown("Here:\n\n```bash\necho hi\nls")
    assert formatted.text == "Here:\n\necho hi\nls"
    assert seen(formatted) == [("pre", "echo hi\nls", None, "bash")]


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("**half bold", "**half bold"),
        ("a `b", "a `b"),
        ("[link](https://a", "[link](https://a"),
        ("> q\n- ", "q\n\n•"),
        ("```", "```"),
    ],
)
def test_partial_markdown_renders_literally(markdown: str, text: str) -> None:
    formatted = render_markdown(markdown)
    assert formatted.text == text
    assert [e.type for e in formatted.entities] == (["blockquote"] if ">" in markdown else [])


def test_empty_heading_and_quote_leave_no_extra_blank_lines() -> None:
    assert render_markdown("a\n\n#\n\n>\n\nb").text == "a\n\nb"


def test_content_beyond_nesting_limit_falls_back_to_raw_text() -> None:
    markdown = ">" * 100 + " deep"
    assert render_markdown(markdown) == Formatted(markdown)


def test_plain_drops_entities() -> None:
    assert render_markdown("**b**").plain() == Formatted("b", ())


def test_ten_thousand_characters_split_at_paragraphs() -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 80 + "end." for i in range(24)]
    markdown = "\n\n".join(paragraphs)
    formatted = render_markdown(markdown)
    assert len(formatted.text) > 10_000
    chunks = split_for_telegram(formatted)
    assert len(chunks) == 3
    for chunk in chunks:
        assert len(chunk.text) <= 4096
        assert chunk.text.startswith("Paragraph ")
        assert chunk.text.endswith("end.")
    assert "\n\n".join(c.text for c in chunks) == formatted.text


def test_short_code_block_moves_whole_to_the_next_chunk() -> None:
    code = "\n".join(f"line {i}" for i in range(40))
    formatted = render_markdown("intro " * 100 + f"\n\n```go\n{code}\n```")
    chunks = split_for_telegram(formatted, limit=700)
    assert [seen(c) for c in chunks] == [[], [("pre", code, None, "go")]]


def test_long_code_block_split_into_pre_chunks_keeping_language() -> None:
    code = "\n".join(f"print({i})  # {'x' * 30}" for i in range(400))
    chunks = split_for_telegram(render_markdown(f"Code:\n\n```python\n{code}\n```"))
    assert len(chunks) >= 4
    parts = [seen(c) for c in chunks]
    assert all(p[-1][0] == "pre" and p[-1][3] == "python" for p in parts)
    assert "\n".join(p[-1][1] for p in parts) == code
    assert all(len(c.text) <= 4096 for c in chunks)


def test_split_rebases_entities_after_emoji() -> None:
    formatted = render_markdown("😀" * 5 + " **bold words here**")
    chunks = split_for_telegram(formatted, limit=8)
    assert [c.text for c in chunks] == ["😀😀😀😀😀", "bold", "words", "here"]
    assert [seen(c) for c in chunks[1:]] == [
        [("bold", w, None, None)] for w in ("bold", "words", "here")
    ]


def test_split_of_blank_text_is_empty() -> None:
    assert split_for_telegram(Formatted(" \n\n ")) == []


MARKDOWNISH = st.text(
    alphabet=st.sampled_from(list("*_~`#>-+1. \n\t[]()!|<>\\:/abz😀é")) | st.characters(),
    max_size=120,
)


def entity_ranges(formatted: Formatted) -> list[tuple[int, int, MessageEntity]]:
    """Entities as code-point ranges, asserting they are in bounds and on code-point boundaries."""
    units = [0, *accumulate(map(utf16_len, formatted.text))]
    ranges = []
    for e in formatted.entities:
        assert e.length > 0
        assert e.offset >= 0
        assert e.offset + e.length <= units[-1]
        assert e.offset in units
        assert e.offset + e.length in units
        ranges.append((units.index(e.offset), units.index(e.offset + e.length), e))
    return ranges


@settings(max_examples=300, deadline=None)
@given(MARKDOWNISH)
def test_render_never_raises_and_entities_are_valid(markdown: str) -> None:
    ranges = entity_ranges(render_markdown(markdown))
    for start, end, outer in ranges:
        for other_start, other_end, inner in ranges:
            if inner is outer or other_end <= start or end <= other_start:
                continue
            contains = start <= other_start and other_end <= end
            assert contains or (other_start <= start and end <= other_end)
            if contains:
                assert outer.type not in ("code", "pre")
                assert not (outer.type == inner.type == "blockquote")
                if inner.type in ("code", "pre"):
                    assert outer.type == "blockquote"


@settings(max_examples=150, deadline=None)
@given(MARKDOWNISH, st.integers(min_value=8, max_value=60))
def test_split_never_cuts_a_code_block_that_fits(markdown: str, limit: int) -> None:
    formatted = render_markdown(markdown)
    pieces = [
        (e.type, u16_slice(formatted.text, e.offset, e.length).strip())
        for e in formatted.entities
        if e.type in ("code", "pre") and len(u16_slice(formatted.text, e.offset, e.length)) <= limit
    ]
    chunks = [
        (e.type, u16_slice(c.text, e.offset, e.length).strip())
        for c in split_for_telegram(formatted, limit=limit)
        for e in c.entities
        if e.type in ("code", "pre")
    ]
    assert all(piece in chunks for piece in pieces if piece[1])


@st.composite
def formatted_values(draw: st.DrawFn) -> Formatted:
    """Arbitrary text with arbitrary, possibly overlapping, entities."""
    text = draw(st.text(alphabet=st.sampled_from(list("ab .!\n\n  😀é")), max_size=150))
    units = [0, *accumulate(map(utf16_len, text))]
    entities = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        kind = draw(st.sampled_from(["bold", "italic", "code", "pre", "text_link"]))
        entities.append(
            MessageEntity(
                type=kind,
                offset=units[start],
                length=units[end] - units[start],
                url="https://a.io" if kind == "text_link" else None,
                language="py" if kind == "pre" else None,
            )
        )
    return Formatted(text, tuple(entities))


def coverage(ranges: list[tuple[int, int, MessageEntity]], at: int) -> list[tuple[str, str]]:
    """Which formatting covers the character at code-point index `at`."""
    return sorted((e.type, f"{e.url}{e.language}") for s, t, e in ranges if s <= at < t)


@settings(max_examples=300, deadline=None)
@given(formatted_values(), st.integers(min_value=1, max_value=40))
def test_split_chunks_fit_and_preserve_text_and_coverage(formatted: Formatted, limit: int) -> None:
    original = entity_ranges(
        Formatted(formatted.text, tuple(e for e in formatted.entities if e.length))
    )
    text, position = formatted.text, 0
    for chunk in split_for_telegram(formatted, limit=limit):
        assert 0 < len(chunk.text) <= limit
        assert chunk.text.strip()
        while text[position : position + len(chunk.text)] != chunk.text:
            assert text[position].isspace()
            position += 1
        ranges = entity_ranges(chunk)
        for index in range(len(chunk.text)):
            assert coverage(ranges, index) == coverage(original, position + index)
        position += len(chunk.text)
    assert not text[position:].strip()
