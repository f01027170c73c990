"""parse_mode=MarkdownV2 exactly as TDLib's parse_markdown_v2 reads it."""

from __future__ import annotations

from dataclasses import dataclass

from tg_sandbox.formatting import links
from tg_sandbox.formatting.entity import Entity, sort_entities
from tg_sandbox.formatting.errors import EntityParseError
from tg_sandbox.formatting.utf16 import from_utf8, is_lead_byte, is_space, to_utf8, utf16_units

_RESERVED = frozenset(b"_*[]()~`>#+-=|{}.!\n")
_CODE_RESERVED = frozenset(b"`")
_CODE_TYPES = frozenset({"Code", "Pre", "PreCode"})
# TDLib's names (used in error messages) to Bot API entity types.
_KINDS = {
    "Bold": "bold",
    "Italic": "italic",
    "Underline": "underline",
    "Strikethrough": "strikethrough",
    "Spoiler": "spoiler",
    "Code": "code",
    "Pre": "pre",
    "PreCode": "pre",
    "TextUrl": "text_link",
    "CustomEmoji": "custom_emoji",
    "BlockQuote": "blockquote",
    "ExpandableBlockQuote": "expandable_blockquote",
}


@dataclass(slots=True)
class _Open:
    type: str
    argument: str
    offset: int
    byte_offset: int
    out_pos: int


def _reserved(char: int) -> EntityParseError:
    return EntityParseError(
        f"Character '{chr(char)}' is reserved and must be escaped with the preceding '\\'"
    )


def _unclosed(entity: _Open) -> EntityParseError:
    return EntityParseError(
        f"Can't find end of {entity.type} entity at byte offset {entity.byte_offset}"
    )


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    """Plain text and raw entities of a MarkdownV2 text, or EntityParseError."""
    return _MarkdownV2Parser(to_utf8(source)).run()


class _MarkdownV2Parser:
    """One pass over the UTF-8 bytes with a stack of open entities, as TDLib does."""

    def __init__(self, text: bytes) -> None:
        self.text = text
        self.out = bytearray()
        self.entities: list[Entity] = []
        self.stack: list[_Open] = []
        self.utf16 = 0
        self.have_blockquote = False
        self.can_start_blockquote = True

    def at(self, index: int) -> int:
        return self.text[index] if index < len(self.text) else 0

    def run(self) -> tuple[str, list[Entity]]:
        i = 0
        while i < len(self.text):
            char = self.text[i]
            escaped = self.at(i + 1)
            if char == ord("\\") and 0 < escaped <= 126:
                self.utf16 += 1
                self.out.append(escaped)
                if escaped != ord("\r"):
                    self.can_start_blockquote = escaped == ord("\n")
                i += 2
                continue
            in_code = bool(self.stack) and self.stack[-1].type in _CODE_TYPES
            if char not in (_CODE_RESERVED if in_code else _RESERVED):
                if is_lead_byte(char):
                    self.utf16 += utf16_units(char)
                    if char != ord("\r"):
                        self.can_start_blockquote = False
                self.out.append(char)
                i += 1
                continue
            i = self.end(i) if self.is_end(i) else self.begin(i)
        return self.finish()

    def is_end(self, i: int) -> bool:
        if not self.stack:
            return False
        char, after = self.text[i], self.at(i + 1)
        if self.have_blockquote and char == ord("\n") and after != ord(">"):
            return True
        match self.stack[-1].type:
            case "Bold":
                return char == ord("*")
            case "Italic":
                return char == ord("_") and after != ord("_")
            case "Underline":
                return char == ord("_") and after == ord("_")
            case "Code":
                return char == ord("`")
            case "Pre" | "PreCode":
                return char == ord("`") and after == ord("`") and self.at(i + 2) == ord("`")
            case "TextUrl" | "CustomEmoji":
                return char == ord("]")
            case "Strikethrough":
                return char == ord("~")
            case "Spoiler":
                return char == ord("|") and after == ord("|")
        return False

    def begin(self, i: int) -> int:
        """Open the entity starting at `i`; returns the position after its opening marker."""
        char, after = self.text[i], self.at(i + 1)
        start, argument = i, ""
        if char == ord("_"):
            kind = "Underline" if after == ord("_") else "Italic"
            i += 1 if after == ord("_") else 0
        elif char == ord("*"):
            kind = "Bold"
        elif char == ord("~"):
            kind = "Strikethrough"
        elif char == ord("|") and after == ord("|"):
            kind, i = "Spoiler", i + 1
        elif char == ord("["):
            kind = "TextUrl"
        elif char == ord("`") and after == ord("`") and self.at(i + 2) == ord("`"):
            kind, argument, i = self.pre_opening(i + 3)
        elif char == ord("`"):
            kind = "Code"
        elif char == ord("!") and after == ord("["):
            kind, i = "CustomEmoji", i + 1
        elif char == ord("\n"):
            self.utf16 += 1
            self.out.append(char)
            self.can_start_blockquote = True
            return i + 1
        elif char == ord(">") and self.can_start_blockquote:
            if self.have_blockquote:
                return i + 1
            kind, self.have_blockquote = "BlockQuote", True
        else:
            raise _reserved(char)
        self.stack.append(_Open(kind, argument, self.utf16, start, len(self.out)))
        return i + 1

    def pre_opening(self, i: int) -> tuple[str, str, int]:
        """After ```: read an optional language and skip one line break; returns the last byte."""
        kind, argument = "Pre", ""
        language_end = i
        while not is_space(self.at(language_end)) and self.at(language_end) != ord("`"):
            language_end += 1
        if (
            i != language_end
            and language_end < len(self.text)
            and self.at(language_end) != ord("`")
        ):
            kind, argument = "PreCode", from_utf8(self.text[i:language_end])
            i = language_end
        if self.at(i) in (ord("\n"), ord("\r")):
            pair = self.at(i + 1) in (ord("\n"), ord("\r")) and self.at(i) != self.at(i + 1)
            i += 2 if pair else 1
        return kind, argument, i - 1

    def read_url(self, i: int, unclosed: str) -> tuple[str, int]:
        """The (unescaped) URL in parentheses starting at `i`, and the position of ')'."""
        url = bytearray()
        begin = i
        while i < len(self.text) and self.text[i] != ord(")"):
            escaped = self.at(i + 1)
            if self.text[i] == ord("\\") and 0 < escaped <= 126:
                url.append(escaped)
                i += 2
                continue
            url.append(self.text[i])
            i += 1
        if self.at(i) != ord(")"):
            raise EntityParseError(f"{unclosed} at byte offset {begin}")
        return from_utf8(url), i

    def end(self, i: int) -> int:
        """Close the innermost entity at `i`; returns the position after its closing marker."""
        top = self.stack[-1]
        kind = top.type
        if self.text[i] == ord("\n") and kind != "BlockQuote":
            right_after = top.byte_offset == i - 2 or (
                top.byte_offset == i - 3 and self.out[-1:] == b"\r"
            )
            if kind != "Spoiler" or not right_after:
                raise _unclosed(top)
            self.stack.pop()
            top = self.stack[-1]
            if top.type != "BlockQuote":
                raise _unclosed(top)
            kind = "ExpandableBlockQuote"
        entity = Entity(_KINDS[kind], top.offset, 0, top.argument)
        skip = self.utf16 == top.offset
        if kind in ("Underline", "Spoiler"):
            i += 1
        elif kind in ("Pre", "PreCode"):
            i += 2
        elif kind == "TextUrl":
            if self.at(i + 1) == ord("("):
                url, i = self.read_url(i + 2, "Can't find end of a URL")
            else:
                url = from_utf8(self.out[top.out_pos :])
            entity.user_id = links.link_user_id(url)
            if entity.user_id:
                entity.kind = "text_mention"
            else:
                entity.argument = links.checked_link(url)
                skip = skip or not entity.argument
        elif kind == "CustomEmoji":
            if self.at(i + 1) != ord("("):
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            url, i = self.read_url(i + 2, "Can't find end of a custom emoji URL")
            skip = self.emoji_or_time(entity, url) or skip
        elif kind in ("BlockQuote", "ExpandableBlockQuote"):
            self.have_blockquote = False
            self.out.append(self.text[i])
            self.can_start_blockquote = True
            self.utf16 += 1
            skip = False
        if not skip:
            entity.length = self.utf16 - entity.offset
            self.entities.append(entity)
        self.stack.pop()
        return i + 1

    @staticmethod
    def emoji_or_time(entity: Entity, url: str) -> bool:
        """Fill a ![..](tg://emoji?id=..) or ![..](tg://time?unix=..) entity; True to drop it."""
        if links.is_time_link(url):
            entity.date, date_format = links.link_time(url)
            entity.kind, entity.argument = "date_time", links.date_time_format(date_format)
            return entity.date <= 0
        entity.argument = links.link_custom_emoji_id(url)
        return False

    def finish(self) -> tuple[str, list[Entity]]:
        if self.have_blockquote:
            kind = "blockquote"
            top = self.stack[-1]
            if top.type == "Spoiler" and top.byte_offset == len(self.text) - 2:
                self.stack.pop()
                kind = "expandable_blockquote"
            top = self.stack[-1]
            if top.type == "BlockQuote":
                if self.utf16 != top.offset:
                    self.entities.append(Entity(kind, top.offset, self.utf16 - top.offset))
                self.stack.pop()
        if self.stack:
            raise _unclosed(self.stack[-1])
        sort_entities(self.entities)
        return from_utf8(self.out), self.entities
