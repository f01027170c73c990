"""Entities Telegram finds by itself in plain text: commands, mentions, hashtags, links."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from tg_sandbox.formatting.entity import Entity, from_dict, sort_entities
from tg_sandbox.formatting.nesting import merge_found, remove_intersecting
from tg_sandbox.formatting.urls import (
    fix_url,
    is_ascii_word,
    is_email_address,
    is_word_character,
    match_urls,
    path_end,
)
from tg_sandbox.formatting.utf16 import ascii_lower

Span = tuple[int, int]
_SHORT_USERNAMES = frozenset({"gif", "nft", "pic", "ufc", "vid"})


def _is_hashtag_letter(char: str) -> bool:
    code = ord(char)
    if char == "_" or code in (0x200C, 0xB7) or 0xD80 <= code <= 0xDFF:
        return True
    return unicodedata.category(char) in ("Nd", "Lu", "Ll", "Lt", "Lm", "Lo")


def _ascii_word_end(text: str, start: int, limit: int | None = None) -> int:
    end = start
    while end < len(text) and is_ascii_word(text[end]) and (limit is None or end - start < limit):
        end += 1
    return end


def _occurrences(text: str, char: str, blocked_after: Callable[[str], bool]) -> list[int]:
    """Positions of `char` not preceded by a character that glues it to a word."""
    found = []
    position = text.find(char)
    while position >= 0:
        if position == 0 or not blocked_after(text[position - 1]):
            found.append(position)
        position = text.find(char, position + 1)
    return found


def find_mentions(text: str) -> list[Span]:
    """@username: 2-32 of [A-Za-z0-9_], not glued to words; 2-3 letters only for known bots."""
    result = []
    for at in _occurrences(text, "@", is_word_character):
        end = _ascii_word_end(text, at + 1)
        size = end - at - 1
        if not 2 <= size <= 32 or (end < len(text) and is_word_character(text[end])):
            continue
        if size >= 4 or ascii_lower(text[at + 1 : end]) in _SHORT_USERNAMES:
            result.append((at, end))
    return result


def _glues_command(char: str) -> bool:
    return is_word_character(char) or char in "/<>"


def find_bot_commands(text: str) -> list[Span]:
    """/command or /command@bot_username."""
    result = []
    for slash in _occurrences(text, "/", _glues_command):
        end = _ascii_word_end(text, slash + 1)
        if not 1 <= end - slash - 1 <= 64:
            continue
        if end < len(text) and text[end] == "@":
            username_end = _ascii_word_end(text, end + 1)
            if not 3 <= username_end - end - 1 <= 32:
                continue
            end = username_end
        if end < len(text) and _glues_command(text[end]):
            continue
        result.append((slash, end))
    return result


def find_hashtags(text: str) -> list[Span]:
    """#tag (up to 256 characters, at least one letter), optionally #tag@chat_username."""
    result = []
    for sharp in _occurrences(text, "#", _is_hashtag_letter):
        end = sharp + 1
        while end < len(text) and _is_hashtag_letter(text[end]):
            end += 1
        body = text[sharp + 1 : end]
        if not body:
            continue
        tag_end = min(end, sharp + 1 + 256)
        if tag_end == end and end < len(text) and text[end] == "@":
            username_end = _ascii_word_end(text, end + 1, limit=32)
            if username_end - end - 1 >= 3:
                end = tag_end = username_end
        if end < len(text) and text[end] == "#":
            continue
        if any(unicodedata.category(char)[0] == "L" for char in body[:256]):
            result.append((sharp, tag_end))
    return result


def _glues_cashtag(char: str) -> bool:
    return char == "$" or _is_hashtag_letter(char)


def find_cashtags(text: str) -> list[Span]:
    """$TICKER: 1-8 capital letters (or $1INCH), optionally $TICKER@chat_username."""
    result = []
    for dollar in _occurrences(text, "$", _glues_cashtag):
        end = dollar + 1
        if text.startswith("1INCH", end):
            end += 5
        else:
            while end < len(text) and "A" <= text[end] <= "Z":
                end += 1
        if not 1 <= end - dollar - 1 <= 8:
            continue
        if end < len(text) and text[end] == "@":
            username_end = _ascii_word_end(text, end + 1)
            if 3 <= username_end - end - 1 <= 32:
                end = username_end
        if end < len(text) and _glues_cashtag(text[end]):
            continue
        result.append((dollar, end))
    return result


def _more_than_five_bytes(text: str, position: int) -> bool:
    rest = len(text) - position
    return rest > 5 or len(text[position:].encode("utf-8", "surrogatepass")) > 5


def find_tg_urls(text: str) -> list[Span]:
    """tg://, ton:// and tonsite:// links."""
    result = []
    position = 0
    while _more_than_five_bytes(text, position):
        colon = text.find(":", position)
        if colon < 0:
            break
        before = ascii_lower(text[max(colon - 7, 0) : colon])
        start = None
        if text.startswith("//", colon + 1):
            if before.endswith("tg"):
                start = colon - 2
            elif before.endswith("ton"):
                start = colon - 3
            elif before == "tonsite":
                start = colon - 3  # TDLib starts these three characters back too
        if start is None:
            position = colon + 1
            continue
        end = position = colon + 3
        while (
            end < len(text)
            and end - position < 253
            and (is_ascii_word(text[end]) or text[end] == "-")
        ):
            end += 1
        if end == position:
            continue
        if end < len(text) and text[end] in "/?#":
            end = path_end(text, end)
        result.append((start, end))
        position = end
    return result


def find_links(text: str) -> list[tuple[str, Span]]:
    """("url" | "email", span) for every link or e-mail address in the text."""
    result: list[tuple[str, Span]] = []
    for begin, end in match_urls(text):
        candidate = text[begin:end]
        if is_email_address(candidate):
            result.append(("email", (begin, end)))
        elif candidate.startswith("mailto:") and is_email_address(candidate[7:]):
            result.append(("email", (begin + 7, end)))
        elif fixed := fix_url(candidate):
            result.append(("url", (begin, begin + len(fixed))))
    return result


def find_entities(text: str) -> list[Entity]:
    """All auto-detected entities, non-overlapping, in UTF-16 units (TDLib's find_entities)."""
    found: list[Entity] = []
    for kind, finder in (
        ("mention", find_mentions),
        ("bot_command", find_bot_commands),
        ("hashtag", find_hashtags),
        ("cashtag", find_cashtags),
        ("url", find_tg_urls),
    ):
        found += [Entity(kind, begin, end - begin) for begin, end in finder(text)]
    found += [Entity(kind, begin, end - begin) for kind, (begin, end) in find_links(text)]
    sort_entities(found)
    found = remove_intersecting(found)
    units = [0]
    for char in text:
        units.append(units[-1] + (2 if ord(char) > 0xFFFF else 1))
    for entity in found:
        entity.offset, entity.length = (
            units[entity.offset],
            units[entity.end] - units[entity.offset],
        )
    return found


def find_auto_entities(text: str) -> list[dict[str, object]]:
    """bot_command, mention, hashtag, cashtag, url and email entities of a user's plain text."""
    return [entity.to_dict() for entity in find_entities(text)]


def with_auto_entities(text: str, entities: list[dict[str, object]]) -> list[dict[str, object]]:
    """Add what Telegram detects by itself to a stored text, outside code, pre and links."""
    merged = merge_found([from_dict(item) for item in entities], find_entities(text))
    return [entity.to_dict() for entity in merged]
