"""Errors of the formatting parser, each carrying Telegram's own wording."""

from __future__ import annotations


def _bot_api_case(message: str) -> str:
    """Lower the first letter as the Bot API server does, unless the text is an UPPER_CASE token."""
    if len(message) >= 2 and (message[1] == "_" or "A" <= message[1] <= "Z"):
        return message
    return message[:1].lower() + message[1:]


class FormattingError(Exception):
    """A text or entity problem that Telegram answers with 400 Bad Request."""

    prefix = ""

    @property
    def description(self) -> str:
        """The whole `description` of Telegram's error answer."""
        return "Bad Request: " + _bot_api_case(self.prefix + str(self))


class UnsupportedParseMode(FormattingError):
    """parse_mode is none of HTML, MarkdownV2, Markdown (or empty/none)."""

    def __init__(self, message: str = "Unsupported parse_mode") -> None:
        super().__init__(message)


class EntityParseError(FormattingError):
    """The text does not parse in its parse_mode; str() is TDLib's inner message."""

    prefix = "Can't parse entities: "


class MessageEntityError(FormattingError):
    """An element of the entities parameter is malformed; str() follows the colon."""

    prefix = "Can't parse MessageEntity: "


class InvalidEntitiesError(MessageEntityError):
    """Entities are well-formed but do not fit the text (TDLib's own checks, no extra prefix)."""

    prefix = ""
