"""The Markdown the offline model writes: people's words shown as they are, and where an
answer may pause so that a stopped answer reads as cleanly as a finished one."""

from __future__ import annotations

import re
import unicodedata

PIECES = 8  # about how many pieces an answer streams in
_ESCAPABLE = re.compile(r"([!-/:-@\[-`{-~])")  # ASCII punctuation: CommonMark escapes each
_TOKEN = re.compile(r"\\.|(?P<code>`+)|(?P<emphasis>\*+|_+|~+)|[ \n]|[^\\`*_~ \n]+", re.S)


def literal(text: str) -> str:
    """Markdown, on one source line, that shows exactly `text` (printable characters, tabs and
    line breaks): every ASCII punctuation mark escaped, so none of it is markup or an entity;
    spaces at either end as references, which Markdown does not strip."""
    stripped = text.lstrip()
    body = stripped.rstrip()
    lead, trail = text[: len(text) - len(stripped)], stripped[len(body) :]
    escaped = _ESCAPABLE.sub(r"\\\1", body).replace("\n", "&#10;").replace("\t", "&#9;")
    return _references(lead) + escaped + _references(trail)


def _references(spaces: str) -> str:
    return "".join(f"&#{ord(char)};" for char in spaces)


def code_span(text: str) -> str:
    """`text` as an inline code span that shows it as written (line breaks become spaces)."""
    flat = text.replace("\n", " ")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = flat[:1] == "`" or flat[-1:] == "`" or (flat[:1] == flat[-1:] == " " and flat.strip())
    return f"{fence} {flat} {fence}" if pad else f"{fence}{flat}{fence}"


def clipped(text: str, *, chars: int, lines: int) -> str:
    """At most `chars` characters and `lines` lines of `text`, ending with … when cut; the cut
    falls between words where it can, never inside an emoji or a letter with its accents."""
    kept = "\n".join(text.split("\n")[:lines])[:chars]
    if kept == text:
        return text
    space = max(kept.rfind(" "), kept.rfind("\n"))
    cut = space if space > len(kept) * 3 // 4 else len(kept)
    while 0 < cut < len(text) and (
        unicodedata.combining(text[cut]) or text[cut] in "\u200d\ufe0f" or text[cut - 1] == "\u200d"
    ):
        cut -= 1
    return text[:cut].rstrip() + "…"


def cut_points(markdown: str) -> list[int]:
    """Where an answer may pause: after a space or line break with every span before it
    closed. Knows only the Markdown the offline model writes: escapes, `code` and fences,
    and emphasis whose opening and closing runs are alike (`**…**`, `_…_`)."""
    points: list[int] = []
    open_runs: set[str] = set()
    at = 0
    while token := _TOKEN.match(markdown, at):
        at = token.end()
        if token["code"]:  # skip to the run of as many backticks that closes it
            close = re.compile(rf"(?<!`){token['code']}(?!`)").search(markdown, at)
            if close is None:
                break  # an unclosed code span: no safe place to stop after it
            at = close.end()
        elif token["emphasis"]:
            open_runs ^= {token["emphasis"]}
        elif token[0] in " \n" and not open_runs:
            points.append(at)
    return points


def pieces(markdown: str) -> list[str]:
    """`markdown` in about PIECES pieces, each ending where the answer may pause."""
    bounds = [0, *(p for p in cut_points(markdown) if p < len(markdown))]
    starts = bounds[:: max(1, len(bounds) // PIECES)]
    ends = [*starts[1:], len(markdown)]
    return [markdown[start:end] for start, end in zip(starts, ends, strict=True) if end > start]
