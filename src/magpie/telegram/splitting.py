"""Split a long formatted reply into Telegram messages: at paragraphs, never mid code block."""

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence

from magpie.telegram.formatting import Formatted, utf16_offsets

_CODE = frozenset({"code", "pre"})
_SENTENCE_ENDS = frozenset(".!?…。！？")


def _is_paragraph(text: str, at: int) -> bool:
    """A line break followed by a blank line."""
    if text[at] != "\n":
        return False
    nxt = at + 1
    while nxt < len(text) and text[nxt] in " \t":
        nxt += 1
    return nxt < len(text) and text[nxt] == "\n"


def _is_line(text: str, at: int) -> bool:
    """A line break."""
    return text[at] == "\n"


def _is_sentence(text: str, at: int) -> bool:
    """Whitespace right after a sentence's final punctuation."""
    return text[at].isspace() and text[at - 1] in _SENTENCE_ENDS


def _is_space(text: str, at: int) -> bool:
    """Any whitespace."""
    return text[at].isspace()


_PREFERENCES: tuple[Callable[[str, int], bool], ...] = (
    _is_paragraph,
    _is_line,
    _is_sentence,
    _is_space,
)


def _blocked(length: int, protected: Sequence[tuple[int, int]], limit: int) -> list[bool]:
    """Positions strictly inside a protected range short enough to travel whole."""
    depth = [0] * (length + 2)
    for start, end in protected:
        if end - start <= limit and end - start > 1:
            depth[start + 1] += 1
            depth[end] -= 1
    blocked, running = [], 0
    for at in range(length + 1):
        running += depth[at]
        blocked.append(running > 0)
    return blocked


def _next_start(text: str, at: int) -> int:
    """Skip whitespace after a cut, keeping the indentation of the first line that follows."""
    end = at
    while end < len(text) and text[end].isspace():
        end += 1
    if end == len(text):
        return end
    newline = text.rfind("\n", at, end)
    return end if newline < 0 else newline + 1


def _best_cut(text: str, blocked: list[bool], first: int, stop: int, fill: int) -> int:
    """The preferred cut in (first, stop], favouring chunks at least `fill` long."""
    for low in (max(first + 1, fill), first + 1):
        for accept in _PREFERENCES:
            for at in range(stop, low - 1, -1):
                if not blocked[at] and accept(text, at):
                    return at
    for at in range(stop, first, -1):
        if not blocked[at]:
            return at
    return stop


def _cut(text: str, blocked: list[bool], start: int, first: int, limit: int) -> int:
    """Where the chunk starting at `start` (first visible character at `first`) ends."""
    stop = start + limit
    if stop >= len(text):
        return len(text)
    return _best_cut(text, blocked, first, stop, start + limit // 2)


def cut_ranges(
    text: str, protected: Sequence[tuple[int, int]], limit: int
) -> list[tuple[int, int]]:
    """Code-point ranges of `text`, each at most `limit` long with something visible in it."""
    if limit < 1:
        raise ValueError("limit must be positive")
    blocked = _blocked(len(text), protected, limit)
    ranges: list[tuple[int, int]] = []
    start = _next_start(text, 0)
    while start < len(text):
        first = start
        while text[first].isspace():
            first += 1
        if first - start >= limit:
            start = first
        cut = _cut(text, blocked, start, first, limit)
        if blocked[cut] and start < first:
            start = first
            cut = _cut(text, blocked, start, first, limit)
        end = cut
        while text[end - 1].isspace():
            end -= 1
        ranges.append((start, end))
        start = _next_start(text, cut)
    return ranges


def split_for_telegram(formatted: Formatted, *, limit: int = 4096) -> list[Formatted]:
    """Chunks of at most `limit` code points; entities crossing a cut are clipped into both."""
    text = formatted.text
    offsets = utf16_offsets(text)
    placed = [
        (
            max(0, bisect_right(offsets, entity.offset) - 1),
            min(len(text), bisect_left(offsets, entity.offset + entity.length)),
            entity,
        )
        for entity in formatted.entities
    ]
    protected = [(start, end) for start, end, entity in placed if entity.type in _CODE]
    chunks = []
    for low, high in cut_ranges(text, protected, limit):
        entities = []
        for start, end, entity in placed:
            start, end = max(start, low), min(end, high)
            if start < end:
                moved = {
                    "offset": offsets[start] - offsets[low],
                    "length": offsets[end] - offsets[start],
                }
                entities.append(entity.model_copy(update=moved))
        chunks.append(Formatted(text[low:high], tuple(entities)))
    return chunks
