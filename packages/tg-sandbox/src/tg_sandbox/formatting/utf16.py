"""Lengths in Telegram's units, and the byte-level helpers the parsers share."""

from __future__ import annotations


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of entity offsets and lengths."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def text_length(text: str) -> int:
    """Length Telegram checks against the 4096/1024 limits: Unicode code points."""
    return len(text)


def to_utf8(text: str) -> bytes:
    """UTF-8 bytes; lone surrogates pass through so that no input makes encoding fail."""
    return text.encode("utf-8", "surrogatepass")


def from_utf8(data: bytes | bytearray) -> str:
    """Decode what `to_utf8` (or a parser rebuilding its bytes) produced."""
    return bytes(data).decode("utf-8", "surrogatepass")


def from_utf8_lossy(data: bytes | bytearray) -> str:
    """Decode bytes that may cut a character in half (TDLib's legacy Markdown can)."""
    try:
        return from_utf8(data)
    except UnicodeDecodeError:
        return bytes(data).decode("utf-8", "replace")


def is_lead_byte(byte: int) -> bool:
    """Whether a byte starts a UTF-8 character (is not a continuation byte)."""
    return byte & 0xC0 != 0x80


def utf16_units(lead: int) -> int:
    """UTF-16 units of the character a lead byte starts: 4-byte sequences are surrogate pairs."""
    return 2 if lead >= 0xF0 else 1


def is_space(byte: int) -> bool:
    """TDLib's is_space, which also counts the NUL that ends a C string."""
    return byte in (0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C, 0x00)


def is_alpha(byte: int) -> bool:
    """ASCII letter."""
    return 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def is_digit(byte: int) -> bool:
    """ASCII digit."""
    return 0x30 <= byte <= 0x39


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, as td::to_lower does."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = {code: code + 32 for code in range(0x41, 0x5B)}


def exact_int(text: str, bits: int) -> int | None:
    """td::to_integer_safe: the integer only if `text` is its own canonical decimal form."""
    body = text[1:] if text.startswith("-") else text
    if not body or len(body) > 20 or not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    if str(value) != text or not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
        return None
    return value


def lenient_int32(text: str) -> int:
    """td::to_integer<int32>: an optional minus, leading digits, wrapped to 32 bits."""
    negative = text.startswith("-")
    value = 0
    for char in text[1:] if negative else text:
        if not ("0" <= char <= "9"):
            break
        value = (value * 10 + ord(char) - 0x30) % (1 << 32)
    if negative:
        value = (-value) % (1 << 32)
    return value - (1 << 32) if value >= 1 << 31 else value
