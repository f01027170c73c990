"""Property tests: parsing never crashes, renders round-trip, results always fit the text."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from tg_sandbox.formatting import (
    EntityParseError,
    MessageEntityError,
    UnsupportedParseMode,
    find_auto_entities,
    normalize,
    parse_entities_param,
    parse_text,
    utf16_len,
)

MODES = ["HTML", "MarkdownV2", "Markdown", None, "bogus"]
FAST = settings(max_examples=150, deadline=None)

# Text the generators use: markup-significant characters, emoji, Cyrillic, tabs, newlines.
ALPHABET = [*"ab z09 \n\t_*[]()~`>#+-=|{}.!\\<&;\"'/@$", "🏟", "👍", "я", "é", "\u200f"]
markupish = st.lists(
    st.sampled_from([*ALPHABET, "<b>", "</b>", "<a href='", "&lt;", "```", "||", "__", "**>"]),
    max_size=30,
).map("".join)


def assert_fits(text: str, entities: list[dict[str, object]]) -> None:
    """Every entity is non-empty and lies inside the text."""
    size = utf16_len(text)
    for entity in entities:
        offset, length = entity["offset"], entity["length"]
        assert isinstance(offset, int) and isinstance(length, int)
        assert length > 0
        assert offset >= 0 and offset + length <= size


@FAST
@given(st.one_of(st.text(max_size=60), markupish), st.sampled_from(MODES))
def test_parse_text_raises_only_its_own_errors(text: str, mode: str | None) -> None:
    try:
        result_text, entities = parse_text(text, mode)
    except (EntityParseError, UnsupportedParseMode):
        return
    assert_fits(result_text, entities)


@FAST
@given(st.one_of(st.text(max_size=60), markupish))
def test_auto_entities_fit_the_text(text: str) -> None:
    assert_fits(text, find_auto_entities(text))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 40)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
entity_like = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["bold", "pre", "text_link", "text_mention", "custom_emoji", "url", "x"]
        )
    },
    optional={
        "offset": st.integers(-2, 12) | json_values,
        "length": st.integers(-2, 12) | json_values,
        "url": st.sampled_from(["https://a.com", "tg://user?id=1", "bad"]) | json_values,
        "user": st.fixed_dictionaries({"id": st.integers(-1, 5)}) | json_values,
        "custom_emoji_id": st.integers(-1, 3) | json_values,
        "language": json_values,
    },
)


@FAST
@given(st.text(max_size=12), st.lists(entity_like | json_values, max_size=4))
def test_entities_param_raises_only_its_own_errors(text: str, items: list[object]) -> None:
    try:
        entities = parse_entities_param(text, json.dumps(items))
    except MessageEntityError:
        return
    assert_fits(*normalize(text, entities))


@dataclass
class Node:
    """A piece of a generated document: plain text, or an entity around child nodes."""

    kind: str
    text: str = ""
    argument: str = ""
    children: list[Node] = field(default_factory=list)


STYLES = ["bold", "italic", "underline", "strikethrough", "spoiler"]
URLS = ["https://example.com/a?b=c", "http://t.me/x", "tg://user?id=12345"]
plain_text = st.text(alphabet=st.sampled_from(ALPHABET), max_size=8)
code_text = st.text(alphabet=st.sampled_from(ALPHABET), min_size=1, max_size=8)


@st.composite
def nodes(draw: st.DrawFn, banned: frozenset[str] = frozenset(), depth: int = 0) -> list[Node]:
    """A random, well-nested document (no entity inside one of its own kind)."""
    result = []
    for _ in range(draw(st.integers(0, 3))):
        options = ["text"]
        if depth < 3:
            options += [kind for kind in [*STYLES, "text_link"] if kind not in banned]
        if not banned & {"text_link", "custom_emoji"}:
            options += ["code", "custom_emoji"]
        if depth == 0:
            options += ["pre"]
        kind = draw(st.sampled_from(options))
        if kind == "text":
            result.append(Node(kind, draw(plain_text)))
        elif kind == "code":  # an empty `` next to another backtick would read as ```
            result.append(Node(kind, draw(code_text)))
        elif kind == "pre":
            language = draw(st.sampled_from(["", "python", "c++"]))
            result.append(Node(kind, draw(plain_text), language))
        elif kind == "custom_emoji":
            result.append(Node(kind, draw(st.sampled_from(["👍", "🏟"])), "5368324170671202286"))
        else:
            argument = draw(st.sampled_from(URLS)) if kind == "text_link" else ""
            children = draw(nodes(banned | {kind}, depth + 1))
            result.append(Node(kind, argument=argument, children=children))
    return result


def flatten(document: list[Node]) -> tuple[str, list[dict[str, object]]]:
    """The plain text and Bot API entities a document stands for."""
    text = ""
    entities: list[dict[str, object]] = []

    def walk(node: Node) -> None:
        nonlocal text
        start = utf16_len(text)
        if node.kind == "text":
            text += node.text
            return
        if node.kind in ("code", "pre", "custom_emoji"):
            text += node.text
        for child in node.children:
            walk(child)
        entity: dict[str, object] = {
            "type": node.kind,
            "offset": start,
            "length": utf16_len(text) - start,
        }
        if node.kind == "text_link" and node.argument.startswith("tg://user"):
            entity = {**entity, "type": "text_mention", "user": {"id": 12345}}
        elif node.kind == "text_link":
            entity["url"] = node.argument
        elif node.kind == "pre" and node.argument:
            entity["language"] = node.argument
        elif node.kind == "custom_emoji":
            entity["custom_emoji_id"] = node.argument
        entities.append(entity)

    for node in document:
        walk(node)
    return text, entities


def html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


HTML_TAGS = {"bold": "b", "italic": "i", "underline": "u", "strikethrough": "s", "code": "code"}


def to_html(document: list[Node]) -> str:
    parts = []
    for node in document:
        if node.kind == "text":
            parts.append(html_escape(node.text))
        elif node.kind == "pre" and node.argument:
            parts.append(
                f'<pre><code class="language-{node.argument}">{html_escape(node.text)}</code></pre>'
            )
        elif node.kind in ("pre", "code"):
            parts.append(f"<{node.kind}>{html_escape(node.text)}</{node.kind}>")
        elif node.kind == "custom_emoji":
            parts.append(f'<tg-emoji emoji-id="{node.argument}">{node.text}</tg-emoji>')
        elif node.kind == "text_link":
            parts.append(f'<a href="{html_escape(node.argument)}">{to_html(node.children)}</a>')
        elif node.kind == "spoiler":
            parts.append(f"<tg-spoiler>{to_html(node.children)}</tg-spoiler>")
        else:
            tag = HTML_TAGS[node.kind]
            parts.append(f"<{tag}>{to_html(node.children)}</{tag}>")
    return "".join(parts)


MARKDOWN_SPECIAL = set("_*[]()~`>#+-=|{}.!\\")
MARKERS = {"bold": "*", "italic": "_", "underline": "__", "strikethrough": "~", "spoiler": "||"}


def md_escape(text: str, special: set[str] = MARKDOWN_SPECIAL) -> str:
    return "".join("\\" + char if char in special else char for char in text)


def to_markdown_v2(document: list[Node]) -> str:
    out: list[str] = []
    after_underscore = False

    def emit(piece: str, *, marker: bool = False) -> None:
        # "_" then "__" would read as one marker; an empty code span keeps them apart.
        nonlocal after_underscore
        if not piece:
            return
        if after_underscore and marker and piece.startswith("_"):
            out.append("``")
        out.append(piece)
        after_underscore = marker and piece.endswith("_")

    def render(items: list[Node]) -> None:
        for node in items:
            if node.kind == "text":
                emit(md_escape(node.text))
            elif node.kind == "code":
                emit("`" + md_escape(node.text, {"`", "\\"}) + "`")
            elif node.kind == "pre":
                emit(f"```{node.argument}\n" + md_escape(node.text, {"`", "\\"}) + "```")
            elif node.kind == "custom_emoji":
                emit(f"![{node.text}](tg://emoji?id={node.argument})")
            elif node.kind == "text_link":
                emit("[")
                render(node.children)
                emit("](" + md_escape(node.argument, {")", "\\"}) + ")")
            else:
                emit(MARKERS[node.kind], marker=True)
                render(node.children)
                emit(MARKERS[node.kind], marker=True)

    render(document)
    return "".join(out)


@FAST
@given(nodes())
def test_html_render_round_trips(document: list[Node]) -> None:
    expected = normalize(*flatten(document))
    assert parse_text(to_html(document), "HTML") == expected
    assert_fits(*expected)


@FAST
@given(nodes())
def test_markdown_v2_render_round_trips(document: list[Node]) -> None:
    text, entities = flatten(document)
    if "\r" in text:
        return
    expected = normalize(text, entities)
    assert parse_text(to_markdown_v2(document), "MarkdownV2") == expected
    assert_fits(*expected)


@FAST
@given(nodes())
def test_normalising_twice_changes_nothing(document: list[Node]) -> None:
    once = normalize(*flatten(document))
    assert normalize(*once) == once
