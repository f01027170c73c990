"""From text + parse_mode (or text + entities) to what Telegram stores: the entry points."""

from __future__ import annotations

from collections.abc import Callable

from tg_sandbox.formatting.entities_param import read_entities_param
from tg_sandbox.formatting.entity import Entity, from_dict
from tg_sandbox.formatting.errors import UnsupportedParseMode
from tg_sandbox.formatting.html import parse_html
from tg_sandbox.formatting.markdown import parse_markdown
from tg_sandbox.formatting.markdown_v2 import parse_markdown_v2
from tg_sandbox.formatting.normalize import normalize_entities
from tg_sandbox.formatting.utf16 import ascii_lower

Parser = Callable[[str], tuple[str, list[Entity]]]
_PARSERS: dict[str, Parser] = {
    "html": parse_html,
    "markdownv2": parse_markdown_v2,
    "markdown": parse_markdown,
}


def _as_dicts(text: str, entities: list[Entity]) -> tuple[str, list[dict[str, object]]]:
    return text, [entity.to_dict() for entity in entities]


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, object]]]:
    """Plain text and entities as Telegram stores them; None, "" or "none" mean plain text."""
    # Raises UnsupportedParseMode or EntityParseError; blank results come back as ("", []).
    mode = ascii_lower(parse_mode or "")
    entities: list[Entity] = []
    if text and mode and mode != "none":
        parser = _PARSERS.get(mode)
        if parser is None:
            raise UnsupportedParseMode()
        text, entities = parser(text)
    return _as_dicts(*normalize_entities(text, entities))


def normalize(text: str, entities: list[dict[str, object]]) -> tuple[str, list[dict[str, object]]]:
    """fix_formatted_text for Bot API entity dicts; InvalidEntitiesError if one does not fit."""
    return _as_dicts(*normalize_entities(text, [from_dict(item) for item in entities]))


def format_text(
    text: str, parse_mode: str | None = None, entities_json: str | None = None
) -> tuple[str, list[dict[str, object]]]:
    """The whole Bot API path: parse_mode wins when set (and not "none"), else the entities JSON."""
    mode = ascii_lower(parse_mode or "")
    if text and mode and mode != "none":
        return parse_text(text, mode)
    entities = read_entities_param(text, entities_json or "")
    return _as_dicts(*normalize_entities(text, entities))
