"""Telegram's text formatting: parse_mode, entity checks and normalisation, as TDLib does them."""

from tg_sandbox.formatting.auto import find_auto_entities, with_auto_entities
from tg_sandbox.formatting.entities_param import parse_entities_param
from tg_sandbox.formatting.errors import (
    EntityParseError,
    FormattingError,
    InvalidEntitiesError,
    MessageEntityError,
    UnsupportedParseMode,
)
from tg_sandbox.formatting.normalize import is_blank
from tg_sandbox.formatting.parse_mode import format_text, normalize, parse_text
from tg_sandbox.formatting.utf16 import text_length, utf16_len

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
