"""Turn a model's Markdown into Telegram text + entities, so parse_mode is never needed."""

import re
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from typing import NamedTuple, Self
from urllib.parse import urlsplit

from aiogram.types import MessageEntity
from markdown_it import MarkdownIt
from markdown_it.token import Token

_STYLES = {"strong": "bold", "em": "italic", "s": "strikethrough"}
_FORMATTING = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
_CODE = frozenset({"code", "pre"})
_SCHEMES = frozenset({"http", "https", "tg", "mailto"})


@dataclass(frozen=True, slots=True)
class Formatted:
    """Message text and the entities that format it; entity offsets are UTF-16 code units."""

    text: str
    entities: tuple[MessageEntity, ...] = ()

    def plain(self) -> Self:
        """The same text without entities: the fallback if Telegram still rejects them."""
        return type(self)(self.text)


class _Span(NamedTuple):
    """An entity measured in code points, the unit Python strings index by."""

    kind: str
    start: int
    end: int
    url: str | None = None
    language: str | None = None


@dataclass(slots=True)
class _List:
    """An open list: nesting level, next number (None for bullets), its "." or ")", tight."""

    level: int
    number: int | None
    delimiter: str = "."
    tight: bool = True


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of every code-point position in `text`, the end included."""
    return list(accumulate((2 if ord(char) > 0xFFFF else 1 for char in text), initial=0))


def _safe_url(url: str) -> bool:
    """Whether a link may become a text_link: http(s) with a host, tg:// or mailto:."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    return scheme in _SCHEMES and bool(parts.netloc or (scheme in ("tg", "mailto") and parts.path))


def _carve(span: _Span, holes: list[_Span]) -> list[_Span]:
    """Pieces of a formatting span outside code, since Telegram nests nothing with code."""
    pieces = [span]
    for hole in holes:
        pieces = [
            part
            for piece in pieces
            for part in (
                piece._replace(end=min(piece.end, hole.start)),
                piece._replace(start=max(piece.start, hole.end)),
            )
            if part.end > part.start
        ]
    return pieces


def _fix_spans(spans: list[_Span], length: int) -> list[_Span]:
    """Drop empty spans, code inside links and formatting overlapping code."""
    spans = [s for s in spans if 0 <= s.start < s.end <= length]
    links = [s for s in spans if s.kind == "text_link"]
    codes = [
        s
        for s in spans
        if s.kind in _CODE and not any(k.start <= s.start and s.end <= k.end for k in links)
    ]
    fixed: list[_Span] = []
    for span in spans:
        if span.kind in _FORMATTING:
            fixed.extend(_carve(span, codes))
        elif span.kind not in _CODE or span in codes:
            fixed.append(span)
    return sorted(fixed, key=lambda s: (s.start, -s.end))


@dataclass(slots=True)
class _Renderer:
    """Walks markdown-it tokens once, appending text and recording entity spans."""

    lines: list[str]
    out: list[str] = field(default_factory=list)
    pos: int = 0
    spans: list[_Span] = field(default_factory=list)
    depth: dict[str, int] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)
    links: list[tuple[str | None, int]] = field(default_factory=list)
    lists: list[_List] = field(default_factory=list)
    pending: str = ""
    marker: str = ""
    marks: list[tuple[int, int, str, str]] = field(default_factory=list)

    def put(self, text: str) -> None:
        """Append raw text."""
        if text:
            self.out.append(text)
            self.pos += len(text)

    def block(self) -> None:
        """Start a block: separator from the previous block, then a list marker or indentation."""
        if self.pos and self.pending:
            self.put(self.pending)
        self.pending = ""
        if self.marker:
            self.put(self.marker)
            self.marker = ""
        elif self.out and self.out[-1].endswith("\n"):
            self.put("  " * len(self.lists))

    def open_block(self) -> None:
        """Start a heading or quote, remembering how to undo it should it stay empty."""
        self.marks.append((len(self.out), self.pos, self.pending, self.marker))
        self.block()

    def close_block(self) -> None:
        """Finish a block opened by `open_block`, removing it if nothing visible was written."""
        size, pos, pending, marker = self.marks.pop()
        if "".join(self.out[size:]).strip():
            self.end_block()
            return
        del self.out[size:]
        self.pos, self.pending, self.marker = pos, pending, marker
        self.spans = [s for s in self.spans if s.start < pos]

    def end_block(self) -> None:
        """Finish a block: tight list items are a line break apart, other blocks a blank line."""
        self.pending = "\n" if self.lists and self.lists[-1].tight else "\n\n"

    def push(self, kind: str) -> None:
        """Open an entity; nested ones of the same kind merge into the outermost."""
        self.depth[kind] = self.depth.get(kind, 0) + 1
        if self.depth[kind] == 1:
            self.starts[kind] = self.pos

    def pop(self, kind: str) -> None:
        """Close an entity opened by `push`."""
        self.depth[kind] = self.depth.get(kind, 0) - 1
        if self.depth[kind] == 0:
            self.spans.append(_Span(kind, self.starts[kind], self.pos))

    def leaf(self, text: str, kind: str | None = None, language: str | None = None) -> None:
        """A whole block of literal text, optionally as one entity."""
        if text.strip():
            self.block()
            if kind:
                self.spans.append(_Span(kind, self.pos, self.pos + len(text), language=language))
            self.put(text)
            self.end_block()

    def inline(self, tokens: list[Token]) -> None:
        """Inline content of a paragraph or heading."""
        for token in tokens:
            kind, _, edge = token.type.rpartition("_")
            if token.type in ("text", "text_special", "html_inline"):
                self.put(token.content)
            elif token.type in ("softbreak", "hardbreak"):
                self.put("\n" + "  " * len(self.lists))
            elif token.type == "code_inline":
                self.spans.append(_Span("code", self.pos, self.pos + len(token.content)))
                self.put(token.content)
            elif kind in _STYLES:
                (self.push if edge == "open" else self.pop)(_STYLES[kind])
            elif token.type == "link_open":
                href = str(token.attrGet("href") or "")
                url = href if token.markup != "autolink" and _safe_url(href) else None
                self.links.append((None if any(u for u, _ in self.links) else url, self.pos))
            elif token.type == "link_close" and self.links:
                url, start = self.links.pop()
                if url:
                    self.spans.append(_Span("text_link", start, self.pos, url=url))
            elif token.type == "image":
                src, start = str(token.attrGet("src") or ""), self.pos
                self.put(token.content or src)
                if _safe_url(src) and not any(url for url, _ in self.links):
                    self.spans.append(_Span("text_link", start, self.pos, url=src))

    def table(self, tokens: list[Token], at: int) -> int:
        """A table's source lines as a pre block; returns the index of its closing token."""
        close = next((i for i in range(at, len(tokens)) if tokens[i].type == "table_close"), at)
        first, last = tokens[at].map or (0, 0)
        quote = re.compile(rf"^[ \t]*(?:>[ \t]?){{0,{self.depth.get('blockquote', 0)}}}")
        rows = [quote.sub("", line) for line in self.lines[first:last]]
        self.leaf(textwrap.dedent("\n".join(rows)).strip("\n"), "pre")
        return close

    def walk(self, tokens: list[Token]) -> None:
        """Render the block token stream."""
        at = 0
        while at < len(tokens):
            token, kind = tokens[at], tokens[at].type
            if kind == "paragraph_open":
                if self.lists and token.level == self.lists[-1].level + 2:
                    self.lists[-1].tight = token.hidden
                self.block()
            elif kind == "inline":
                self.inline(token.children or [])
            elif kind == "paragraph_close":
                self.end_block()
            elif kind in ("heading_open", "blockquote_open"):
                self.open_block()
                self.push("bold" if kind == "heading_open" else "blockquote")
            elif kind in ("heading_close", "blockquote_close"):
                self.pop("bold" if kind == "heading_close" else "blockquote")
                self.close_block()
            elif kind in ("fence", "code_block"):
                self.leaf(token.content.rstrip("\n"), "pre", next(iter(token.info.split()), None))
            elif kind == "html_block":
                self.leaf(token.content.rstrip())
            elif kind == "hr":
                self.leaf("———")
            elif kind == "table_open":
                at = self.table(tokens, at)
            elif kind == "bullet_list_open":
                self.lists.append(_List(token.level, None))
            elif kind == "ordered_list_open":
                start = token.attrGet("start")  # absent when 1; the model's own number otherwise
                self.lists.append(
                    _List(token.level, 1 if start is None else int(start), token.markup)
                )
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                self.end_block()
            elif kind == "list_item_open":
                self.flush_marker()
                items, indent = self.lists[-1], "  " * (len(self.lists) - 1)
                number = items.number
                self.marker = indent + ("• " if number is None else f"{number}{items.delimiter} ")
                items.number = None if items.number is None else items.number + 1
            elif kind == "list_item_close":
                self.flush_marker()
                self.end_block()
            at += 1

    def flush_marker(self) -> None:
        """Write a list marker whose item has not started, e.g. an empty item."""
        if self.marker:
            self.marker = self.marker.rstrip()
            self.block()
            self.pending = "\n"

    def finish(self) -> Formatted:
        """The rendered text with its entities converted to UTF-16 offsets."""
        text = "".join(self.out)
        prefix = utf16_offsets(text)
        return Formatted(
            text,
            tuple(
                MessageEntity(
                    type=s.kind,
                    offset=prefix[s.start],
                    length=prefix[s.end] - prefix[s.start],
                    url=s.url,
                    language=s.language,
                )
                for s in _fix_spans(self.spans, len(text))
            ),
        )


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    """CommonMark plus strikethrough; tables are parsed only to be shown as their source."""
    return MarkdownIt("commonmark").enable(["strikethrough", "table"])


def render_markdown(markdown: str) -> Formatted:
    """Render Markdown as text + entities; never raises, falling back to the raw text."""
    try:
        source = markdown.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
        renderer = _Renderer(source.split("\n"))
        renderer.walk(_parser().parse(source))
        formatted = renderer.finish()
    except Exception:
        return Formatted(markdown)
    # markdown-it drops content nested past its limit; never turn a visible reply into nothing.
    return formatted if formatted.text.strip() or not markdown.strip() else Formatted(markdown)
