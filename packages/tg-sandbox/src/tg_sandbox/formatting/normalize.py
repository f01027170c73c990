"""TDLib's fix_formatted_text: clean the text, fit the entities, trim the edges."""

from __future__ import annotations

from tg_sandbox.formatting.entity import Entity, sort_entities
from tg_sandbox.formatting.errors import InvalidEntitiesError
from tg_sandbox.formatting.nesting import fix_entities

_MAX_OFFSET = 1_000_000
# Characters clean_input_string drops: \r, line/paragraph separators and bidi embeddings, and
# three combining marks that draw vertical lines.
_DROPPED = frozenset({0x0D, 0x30A, 0x333, 0x33F} | set(range(0x2028, 0x202F)))
_DIRECTION_MARKS = frozenset("\u200e\u200f")
# What TDLib's is_empty_string treats as showing nothing.
_BLANK = frozenset(
    " \n\u00a0\u1680\u180e\u202e\u202f\u205f\u2800\u3000\ufeff\ufffc"
    + "".join(chr(code) for code in range(0x2000, 0x2010))
)


def is_blank(text: str) -> bool:
    """Whether the text shows nothing, so Telegram answers "text must be non-empty"."""
    return all(char in _BLANK or 0xE0000 <= ord(char) <= 0xE007F for char in text)


def _utf8_size(code: int) -> int:
    if code < 0x80:
        return 1
    if code < 0x800:
        return 2
    return 3 if code < 0x10000 else 4


def clean(text: str, entities: list[Entity]) -> str:
    """clean_input_string: controls become spaces, some characters go; entities shift in place."""
    # `entities` must be sorted and may nest but not cross; InvalidEntitiesError when one does
    # not fit the text.
    out: list[str] = []
    stack: list[tuple[Entity, int]] = []
    upcoming = 0
    utf16 = skipped = byte_pos = 0
    for index in range(len(text) + 1):
        while stack and utf16 >= stack[-1][0].end:
            entity, skipped_before = stack.pop()
            if utf16 != entity.end:
                raise InvalidEntitiesError(
                    f"Entity beginning at UTF-16 offset {entity.offset} ends in a middle of a "
                    f"UTF-16 symbol at byte offset {byte_pos}"
                )
            entity.offset -= skipped_before
            entity.length -= skipped - skipped_before
        while upcoming < len(entities) and utf16 >= entities[upcoming].offset:
            if utf16 != entities[upcoming].offset:
                raise InvalidEntitiesError(
                    f"Entity begins in a middle of a UTF-16 symbol at byte offset {byte_pos}"
                )
            stack.append((entities[upcoming], skipped))
            upcoming += 1
        if index == len(text):
            break
        char = text[index]
        code = ord(char)
        byte_pos += _utf8_size(code)
        if code in _DROPPED:
            utf16 += 1
            skipped += 1
        elif code <= 0x20 and code != 0x0A:
            out.append(" ")
            utf16 += 1
        else:
            out.append(char)
            utf16 += 2 if code > 0xFFFF else 1
    if upcoming < len(entities):
        raise InvalidEntitiesError(
            f"Entity begins after the end of the text at UTF-16 offset {entities[upcoming].offset}"
        )
    if stack:
        entity = stack[-1][0]
        raise InvalidEntitiesError(
            f"Entity beginning at UTF-16 offset {entity.offset} ends after the end of the text "
            f"at UTF-16 offset {entity.end}"
        )
    for index in range(len(out) - 1):
        if out[index] in _DIRECTION_MARKS and out[index + 1] in _DIRECTION_MARKS:
            out[index] = "\u200c"
    return "".join(out)


def _last_visible(text: str) -> tuple[int, int] | None:
    """(index, UTF-16 offset of its last unit) of the last character that is not space or \\n."""
    found = None
    utf16 = 0
    for index, char in enumerate(text):
        units = 2 if ord(char) > 0xFFFF else 1
        if char not in " \n":
            found = (index, utf16 + units - 1)
        utf16 += units
    return found


def normalize_entities(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """fix_formatted_text: the text and entities Telegram stores; blank text becomes ("", [])."""
    # Auto-detected entities (URLs, mentions, ...) are not added here; see with_auto_entities.
    entities = [entity.copy() for entity in entities]
    for entity in entities:
        if not 0 <= entity.offset <= _MAX_OFFSET:
            raise InvalidEntitiesError(f"Receive an entity with incorrect offset {entity.offset}")
        if not 0 <= entity.length <= _MAX_OFFSET:
            raise InvalidEntitiesError(f"Receive an entity with incorrect length {entity.length}")
    entities = fix_entities([entity for entity in entities if not entity.is_empty()])
    cleaned = clean(text, entities)
    entities = [entity for entity in entities if not entity.is_empty()]
    last = _last_visible(cleaned)
    if last is None:
        return "", []
    last_index, last_utf16 = last
    entities = fix_entities(entities)

    cleaned = cleaned[: last_index + 1]
    while entities and entities[-1].offset > last_utf16:
        entities.pop()
    clipped = False
    for entity in entities:
        if entity.end > last_utf16 + 1:
            entity.length = last_utf16 + 1 - entity.offset
            clipped = True
    if clipped:
        sort_entities(entities)

    first_entity = entities[0].offset if entities else len(cleaned)
    lead = 0
    while lead < min(first_entity, len(cleaned)) and cleaned[lead] in " \n":
        lead += 1
    if lead:
        cleaned = cleaned[lead:]
        for entity in entities:
            entity.offset -= lead
    if is_blank(cleaned):
        return "", []
    return cleaned, entities
