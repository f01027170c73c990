"""parse_mode=Markdown (legacy) exactly as TDLib's parse_markdown reads it."""

from __future__ import annotations

from tg_sandbox.formatting import links
from tg_sandbox.formatting.entity import Entity
from tg_sandbox.formatting.errors import EntityParseError
from tg_sandbox.formatting.utf16 import (
    from_utf8,
    from_utf8_lossy,
    is_lead_byte,
    is_space,
    to_utf8,
    utf16_units,
)

_MARKERS = frozenset(b"_*`[")
_BACKTICK, _NEWLINE, _RETURN = ord("`"), ord("\n"), ord("\r")


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Plain text and raw entities of a legacy-Markdown text, or EntityParseError."""
    # TDLib rewrites the text in place while reading it, and `[text]` without `(url)` takes its
    # URL from that half-rewritten buffer; the buffer is kept here too to give the same links.
    buf = bytearray(to_utf8(source))
    size = len(buf)

    def at(index: int) -> int:
        return buf[index] if index < size else 0

    entities: list[Entity] = []
    written = 0
    utf16 = 0
    i = 0
    while i < size:
        char = buf[i]
        if char == ord("\\") and at(i + 1) in _MARKERS:
            buf[written] = buf[i + 1]
            written += 1
            utf16 += 1
            i += 2
            continue
        if char not in _MARKERS:
            if is_lead_byte(char):
                utf16 += utf16_units(char)
            buf[written] = char
            written += 1
            i += 1
            continue

        begin = i
        end_char = ord("]") if char == ord("[") else char
        is_pre = False
        language = ""
        i += 1
        if char == _BACKTICK and at(i) == _BACKTICK and at(i + 1) == _BACKTICK:
            i += 2
            is_pre = True
            language_end = i
            while not is_space(at(language_end)) and at(language_end) != _BACKTICK:
                language_end += 1
            if i != language_end and language_end < size and at(language_end) != _BACKTICK:
                language = from_utf8(buf[i:language_end])
                i = language_end
            if at(i) in (_NEWLINE, _RETURN):
                pair = at(i + 1) in (_NEWLINE, _RETURN) and at(i) != at(i + 1)
                i += 2 if pair else 1

        offset = utf16
        while i < size and (
            buf[i] != end_char
            or (is_pre and not (at(i + 1) == _BACKTICK and at(i + 2) == _BACKTICK))
        ):
            if is_lead_byte(buf[i]):
                utf16 += utf16_units(buf[i])
            buf[written] = buf[i]
            written += 1
            i += 1
        if i == size:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")

        if utf16 != offset:
            length = utf16 - offset
            if char == ord("_"):
                entities.append(Entity("italic", offset, length))
            elif char == ord("*"):
                entities.append(Entity("bold", offset, length))
            elif char == ord("["):
                if at(i + 1) != ord("("):
                    url = from_utf8_lossy(buf[begin + 1 : i])
                else:
                    url_begin = i = i + 2
                    while i < size and buf[i] != ord(")"):
                        i += 1
                    url = from_utf8(buf[url_begin:i])
                entities.extend(_link(url, offset, length))
            else:
                kind = "pre" if is_pre else "code"
                entities.append(Entity(kind, offset, length, language if is_pre else ""))
        if is_pre:
            i += 2
        i += 1
    return from_utf8(buf[:written]), entities


def _link(url: str, offset: int, length: int) -> list[Entity]:
    """A text_mention for tg://user links, a text_link for valid URLs, nothing otherwise."""
    user_id = links.link_user_id(url)
    if user_id:
        return [Entity("text_mention", offset, length, user_id=user_id)]
    checked = links.checked_link(url)
    return [Entity("text_link", offset, length, checked)] if checked else []
