"""parse_mode=HTML exactly as TDLib's parse_html reads it, byte offsets and all."""

from __future__ import annotations

from dataclasses import dataclass

from tg_sandbox.formatting import links
from tg_sandbox.formatting.entity import Entity, sort_entities
from tg_sandbox.formatting.errors import EntityParseError
from tg_sandbox.formatting.utf16 import (
    ascii_lower,
    exact_int,
    from_utf8,
    is_alpha,
    is_digit,
    is_lead_byte,
    is_space,
    lenient_int32,
    to_utf8,
    utf16_units,
)

_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins"}
    | {"tg-spoiler", "tg-emoji", "tg-time", "span", "pre", "code", "blockquote"}
)
_SIMPLE = {
    tag: kind
    for kind, tags in {
        "bold": "b strong",
        "italic": "i em",
        "strikethrough": "s strike del",
        "underline": "u ins",
        "spoiler": "tg-spoiler span",
    }.items()
    for tag in tags.split()
}
_NAMED = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}
_LT, _GT, _AMP, _SLASH, _EQ, _QUOTE, _APOSTROPHE = b"<>&/=\"'"
_NAME_STOPS = frozenset(b"=>/\"'")
_BAD_SURROGATES = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    date: int
    offset: int
    out_pos: int


def _hex_value(byte: int) -> int:
    """Value of an ASCII hex digit, 16 for anything else."""
    char = chr(byte)
    return int(char, 16) if char in "0123456789abcdefABCDEF" else 16


def _is_token_byte(byte: int) -> bool:
    """Letters, digits, periods and hyphens make an unquoted attribute value."""
    return is_alpha(byte) or is_digit(byte) or byte in (0x2E, 0x2D)


def _decode_entity(text: bytes, pos: int) -> tuple[int, int] | None:
    """(code point, next position) of the character reference at `pos`, or None."""

    def at(index: int) -> int:
        return text[index] if index < len(text) else 0

    end = pos + 1
    code = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while _hex_value(at(end)) < 16:
                code = min(code * 16 + _hex_value(at(end)), 0x110000)
                end += 1
        else:
            while is_digit(at(end)):
                code = min(code * 10 + at(end) - 0x30, 0x110000)
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
    else:
        while is_alpha(at(end)):
            end += 1
        named = _NAMED.get(text[pos + 1 : end])
        if named is None:
            return None
        code = named
    if at(end) == ord(";"):
        end += 1
    return code, end


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Plain text and raw entities of an HTML-formatted text, or EntityParseError."""
    return _HtmlParser(to_utf8(source)).run()


class _HtmlParser:
    """One pass over the UTF-8 bytes, mirroring TDLib's loop and its error positions."""

    def __init__(self, text: bytes) -> None:
        self.text = text
        self.out = bytearray()
        self.entities: list[Entity] = []
        self.stack: list[_OpenTag] = []
        self.utf16 = 0
        self.has_surrogate = False

    def at(self, index: int) -> int:
        return self.text[index] if index < len(self.text) else 0

    def run(self) -> tuple[str, list[Entity]]:
        i = 0
        while i < len(self.text):
            byte = self.text[i]
            if byte == _AMP:
                decoded = _decode_entity(self.text, i)
                if decoded is not None:
                    code, i = decoded
                    self.utf16 += 2 if code > 0xFFFF else 1
                    self.has_surrogate |= 0xD800 <= code <= 0xDFFF
                    self.out += chr(code).encode("utf-8", "surrogatepass")
                    continue
            if byte != _LT:
                if is_lead_byte(byte):
                    self.utf16 += utf16_units(byte)
                self.out.append(byte)
                i += 1
                continue
            i = self.end_tag(i) if self.at(i + 1) == _SLASH else self.start_tag(i)
        if self.stack:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        for entity in self.entities:
            if entity.kind == "code":
                entity.argument = ""
        sort_entities(self.entities)
        if self.has_surrogate:
            raise EntityParseError(_BAD_SURROGATES)
        return from_utf8(self.out), self.entities

    def start_tag(self, begin: int) -> int:
        i = begin + 1
        while not is_space(self.at(i)) and self.at(i) != _GT:
            i += 1
        if self.at(i) == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        name = ascii_lower(from_utf8(self.text[begin + 1 : i]))
        if name not in _TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {begin}')
        tag = _OpenTag(name, "", 0, self.utf16, len(self.out))
        while self.at(i) != _GT:
            i = self.attribute(tag, begin, i)
        if name == "span" and tag.argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
            )
        self.stack.append(tag)
        return i + 1

    def skip_spaces(self, i: int) -> int:
        while self.at(i) != 0 and is_space(self.at(i)):
            i += 1
        return i

    def attribute(self, tag: _OpenTag, begin: int, i: int) -> int:
        """Read one attribute (or reach '>'); returns the next position."""
        i = self.skip_spaces(i)
        if self.at(i) == _GT:
            return i
        name_begin = i
        while not is_space(self.at(i)) and self.at(i) not in _NAME_STOPS:
            i += 1
        attribute = self.text[name_begin:i]
        if not attribute:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag.name}" at byte offset {begin}'
            )
        i = self.skip_spaces(i)
        if self.at(i) != _EQ:
            if self.at(i) == 0:
                raise EntityParseError(f'Unclosed start tag "{tag.name}" at byte offset {begin}')
            if tag.name == "blockquote" and attribute == b"expandable":
                tag.argument = "1"
            return i
        i = self.skip_spaces(i + 1)
        if self.at(i) == 0:
            raise EntityParseError(f'Unclosed start tag "{tag.name}" at byte offset {begin}')
        if self.at(i) not in (_QUOTE, _APOSTROPHE):
            token_begin = i
            while _is_token_byte(self.at(i)):
                i += 1
            value = ascii_lower(from_utf8(self.text[token_begin:i]))
            if not is_space(self.at(i)) and self.at(i) != _GT:
                raise EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
        else:
            quote = self.at(i)
            i += 1
            raw = bytearray()
            while self.at(i) != quote and self.at(i) != 0:
                if self.at(i) == _AMP:
                    decoded = _decode_entity(self.text, i)
                    if decoded is not None:
                        code, i = decoded
                        raw += chr(code).encode("utf-8", "surrogatepass")
                        continue
                raw.append(self.at(i))
                i += 1
            if self.at(i) == quote:
                i += 1
            value = from_utf8(raw)
        if self.at(i) == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        self.assign(tag, attribute, value)
        return i

    @staticmethod
    def assign(tag: _OpenTag, attribute: bytes, value: str) -> None:
        """Keep the attribute values TDLib looks at; everything else is ignored."""
        match tag.name, attribute:
            case ("a", b"href") | ("tg-emoji", b"emoji-id") | ("tg-time", b"format"):
                tag.argument = value
            case ("code", b"class") if value.startswith("language-"):
                tag.argument = value[9:]
            case ("span", b"class") if value.startswith("tg-"):
                tag.argument = value[3:]
            case ("blockquote", b"expandable"):
                tag.argument = "1"
            case ("tg-time", b"unix"):
                tag.date = lenient_int32(value)

    def end_tag(self, begin: int) -> int:
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        i = begin + 2
        while not is_space(self.at(i)) and self.at(i) != _GT:
            i += 1
        name = ascii_lower(from_utf8(self.text[begin + 2 : i]))
        while is_space(self.at(i)) and self.at(i) != 0:
            i += 1
        if self.at(i) != _GT:
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        tag = self.stack[-1]
        if name and name != tag.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {begin}, "
                f'expected "</{tag.name}>", found "</{name}>"'
            )
        if self.utf16 > tag.offset:
            self.close(tag, self.utf16 - tag.offset)
        self.stack.pop()
        return i + 1

    def close(self, tag: _OpenTag, length: int) -> None:
        """Turn a closed, non-empty tag into its entity."""
        offset = tag.offset
        last = self.entities[-1] if self.entities else None
        same_range = last is not None and last.offset == offset and last.length == length
        if tag.name in _SIMPLE:
            self.entities.append(Entity(_SIMPLE[tag.name], offset, length))
        elif tag.name == "tg-emoji":
            emoji_id = exact_int(tag.argument, 64)
            if not emoji_id:
                raise EntityParseError("Invalid custom emoji identifier specified")
            self.entities.append(Entity("custom_emoji", offset, length, str(emoji_id)))
        elif tag.name == "tg-time":
            date_format = links.date_time_format(tag.argument)
            if tag.date > 0:
                self.entities.append(
                    Entity("date_time", offset, length, date_format, date=tag.date)
                )
        elif tag.name == "a":
            url = tag.argument or from_utf8(self.out[tag.out_pos :])
            user_id = links.link_user_id(url)
            if user_id:
                self.entities.append(Entity("text_mention", offset, length, user_id=user_id))
            elif checked := links.checked_link(url):
                self.entities.append(Entity("text_link", offset, length, checked))
        elif tag.name == "pre":
            if last is not None and same_range and last.kind == "code" and last.argument:
                last.kind = "pre"
            else:
                self.entities.append(Entity("pre", offset, length))
        elif tag.name == "code":
            is_plain_pre = last is not None and last.kind == "pre" and not last.argument
            if last is not None and same_range and is_plain_pre and tag.argument:
                last.argument = tag.argument
            else:
                self.entities.append(Entity("code", offset, length, tag.argument))
        else:
            kind = "expandable_blockquote" if tag.argument else "blockquote"
            self.entities.append(Entity(kind, offset, length))
