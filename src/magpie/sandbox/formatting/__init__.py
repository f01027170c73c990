"""Telegram's text formatting: parse_mode, entity checks and normalisation, as TDLib does them."""

from magpie.sandbox.formatting.auto import find_auto_entities, with_auto_entities
from magpie.sandbox.formatting.entities_param import parse_entities_param
from magpie.sandbox.formatting.errors import (
    EntityParseError,
    FormattingError,
    InvalidEntitiesError,
    MessageEntityError,
    UnsupportedParseMode,
)
from magpie.sandbox.formatting.normalize import is_blank
from magpie.sandbox.formatting.parse_mode import format_text, normalize, parse_text
from magpie.sandbox.formatting.utf16 import text_length, utf16_len

__all__ = [
    "EntityParseError",
    "FormattingError",
    "InvalidEntitiesError",
    "MessageEntityError",
    "UnsupportedParseMode",
    "find_auto_entities",
    "format_text",
    "is_blank",
    "normalize",
    "parse_entities_param",
    "parse_text",
    "text_length",
    "utf16_len",
    "with_auto_entities",
]
