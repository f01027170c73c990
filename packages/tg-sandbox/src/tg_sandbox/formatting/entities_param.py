"""The entities / caption_entities parameter, read as the Bot API server and TDLib read it."""

from __future__ import annotations

import json

from tg_sandbox.formatting import links
from tg_sandbox.formatting.entity import AUTO_KINDS, Entity
from tg_sandbox.formatting.errors import (
    EntityParseError,
    InvalidEntitiesError,
    MessageEntityError,
)
from tg_sandbox.formatting.normalize import normalize_entities
from tg_sandbox.formatting.utf16 import exact_int

_PLAIN_KINDS = frozenset(
    {"bold", "italic", "underline", "strikethrough", "spoiler", "code"}
    | {"blockquote", "expandable_blockquote"}
)
_MISSING = object()


class _Number(str):
    """A JSON number kept as written, since the Bot API reads numbers from their text."""


def _reject_constant(name: str) -> object:
    raise ValueError(name)


def _first_wins(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """TDLib's JSON objects answer a lookup with the first field of that name."""
    result: dict[str, object] = {}
    for key, value in pairs:
        result.setdefault(key, value)
    return result


def _load(raw: str) -> object:
    try:
        return json.loads(
            raw,
            parse_int=_Number,
            parse_float=_Number,
            parse_constant=_reject_constant,
            object_pairs_hook=_first_wins,
        )
    except (ValueError, RecursionError):
        return None


def _integer(item: dict[str, object], name: str, bits: int) -> int:
    value = item.get(name, _MISSING)
    if value is _MISSING:
        raise MessageEntityError(f'Can\'t find field "{name}"')
    if not isinstance(value, str):
        raise MessageEntityError(f'Field "{name}" must be a Number')
    number = exact_int(value, bits)
    if number is None:
        raise MessageEntityError(f'Field "{name}" must be a valid Number')
    return number


def _string(item: dict[str, object], name: str, *, required: bool) -> str:
    value = item.get(name, _MISSING)
    if value is _MISSING:
        if required:
            raise MessageEntityError(f'Can\'t find field "{name}"')
        return ""
    if not isinstance(value, str):
        raise MessageEntityError(f'Field "{name}" must be of type String')
    return str(value)


def _read(value: object) -> Entity | None:
    """One element of the array (Client::get_text_entity); None for auto-detected types."""
    if not isinstance(value, dict):
        raise MessageEntityError("expected an Object")
    offset = _integer(value, "offset", 32)
    length = _integer(value, "length", 32)
    kind = _string(value, "type", required=True)
    if not kind:
        raise MessageEntityError("Type is not specified")
    if kind in _PLAIN_KINDS:
        return Entity(kind, offset, length)
    if kind == "pre":
        return Entity(kind, offset, length, _string(value, "language", required=False))
    if kind == "text_link":
        return Entity(kind, offset, length, _string(value, "url", required=True))
    if kind == "text_mention":
        user = value.get("user", _MISSING)
        if user is _MISSING:
            raise MessageEntityError('Can\'t find field "user"')
        if not isinstance(user, dict):
            raise MessageEntityError('Field "user" must be of type Object')
        return Entity(kind, offset, length, user_id=_integer(user, "id", 64))
    if kind == "custom_emoji":
        return Entity(kind, offset, length, str(_integer(value, "custom_emoji_id", 64)))
    if kind == "date_time":
        date = _integer(value, "unix_time", 32)
        try:
            date_format = links.date_time_format(_string(value, "date_time_format", required=False))
        except EntityParseError:
            raise MessageEntityError("Invalid date-time format specified") from None
        return Entity(kind, offset, length, date_format, date=date)
    if kind in AUTO_KINDS:
        return None
    raise MessageEntityError("Unsupported type specified")


def _check(entity: Entity) -> Entity:
    """TDLib's get_message_entities: links are checked, tg://user links become mentions."""
    if entity.kind == "text_link":
        user_id = links.link_user_id(entity.argument)
        if user_id:
            return Entity("text_mention", entity.offset, entity.length, user_id=user_id)
        try:
            entity.argument = links.check_link(entity.argument)
        except links.LinkError as error:
            raise InvalidEntitiesError(
                f"Entity URL '{entity.argument}' is invalid: {error}"
            ) from None
    elif entity.kind == "custom_emoji" and entity.argument == "0":
        raise InvalidEntitiesError("Invalid custom emoji identifier specified")
    return entity


def read_entities_param(text: str, raw_json: str) -> list[Entity]:
    """Validated entities of the parameter; JSON that is not an array is ignored, as by Telegram."""
    value = _load(raw_json) if raw_json else None
    if not isinstance(value, list):
        return []
    read = [entity for entity in map(_read, value) if entity is not None]
    checked = [_check(entity) for entity in read]
    normalize_entities(text, checked)
    return checked


def parse_entities_param(text: str, raw_json: str) -> list[dict[str, object]]:
    """The entities parameter as MessageEntity dicts, not yet normalised; see `.description`."""
    # MessageEntityError for malformed elements; its subclass InvalidEntitiesError when the
    # entities are well-formed but Telegram refuses them (bad URL, outside the text, ...).
    return [entity.to_dict() for entity in read_entities_param(text, raw_json)]
