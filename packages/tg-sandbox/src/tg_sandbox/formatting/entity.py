"""The entity record shared by the parsers and the normaliser, and its Bot API shape."""

from __future__ import annotations

from dataclasses import dataclass

# Bold, italic, underline, strikethrough and spoiler may be cut into pieces and merged again.
SPLITTABLE: tuple[str, ...] = ("bold", "italic", "underline", "strikethrough", "spoiler")
BLOCKQUOTES = frozenset({"blockquote", "expandable_blockquote"})
# Entities that can hold nothing nested (TDLib's "pre" entities; date_time counts as one).
PRE_LIKE = frozenset({"code", "pre", "date_time"})
CONTINUOUS = frozenset(
    {
        "mention",
        "hashtag",
        "bot_command",
        "url",
        "email",
        "text_link",
        "text_mention",
        "cashtag",
        "phone_number",
        "bank_card_number",
        "custom_emoji",
    }
)
# Entities Telegram finds by itself; the entities parameter may name them, and they are ignored.
AUTO_KINDS = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bank_card_number",
    }
)

# TDLib's MessageEntity::get_type_priority: lower sorts first among equal ranges.
_PRIORITY: dict[str, int] = {
    "mention": 50,
    "hashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "bold": 90,
    "italic": 91,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "cashtag": 50,
    "phone_number": 50,
    "bank_card_number": 50,
    "underline": 92,
    "strikethrough": 93,
    "blockquote": 0,
    "spoiler": 94,
    "custom_emoji": 99,
    "expandable_blockquote": 0,
    "date_time": 30,
}
MAX_USER_ID = (1 << 40) - 1


@dataclass(slots=True)
class Entity:
    """One entity in UTF-16 units; `argument` is the URL, language, emoji id or date format."""

    kind: str
    offset: int
    length: int
    argument: str = ""
    user_id: int = 0
    date: int = 0

    @property
    def end(self) -> int:
        """UTF-16 offset just past the entity."""
        return self.offset + self.length

    @property
    def priority(self) -> int:
        """TDLib's tie-breaker; a pre with a language (PreCode) sorts before a plain pre."""
        if self.kind == "pre":
            return 10 if self.argument else 11
        return _PRIORITY.get(self.kind, 50)

    def sort_key(self) -> tuple[int, int, int]:
        """Offset ascending, then length descending, then type priority."""
        return (self.offset, -self.length, self.priority)

    def copy(self) -> Entity:
        """An independent copy, so normalising never touches the caller's entities."""
        return Entity(self.kind, self.offset, self.length, self.argument, self.user_id, self.date)

    def is_empty(self) -> bool:
        """TDLib drops empty entities and ones whose argument makes them meaningless."""
        if self.length <= 0:
            return True
        if self.kind == "text_link":
            return not self.argument
        if self.kind == "text_mention":
            return not 0 < self.user_id <= MAX_USER_ID
        if self.kind == "custom_emoji":
            return self.argument in ("", "0")
        if self.kind == "date_time":
            return self.date <= 0
        return False

    def to_dict(self) -> dict[str, object]:
        """The Bot API MessageEntity; optional fields are omitted, never null."""
        result: dict[str, object] = {
            "type": self.kind,
            "offset": self.offset,
            "length": self.length,
        }
        if self.kind == "text_link":
            result["url"] = self.argument
        elif self.kind == "text_mention":
            result["user"] = {"id": self.user_id}
        elif self.kind == "pre" and self.argument:
            result["language"] = self.argument
        elif self.kind == "custom_emoji":
            result["custom_emoji_id"] = self.argument
        elif self.kind == "date_time":
            result["unix_time"] = self.date
            if self.argument:
                result["date_time_format"] = self.argument
        return result


def from_dict(item: dict[str, object]) -> Entity:
    """Read back an entity this package produced with `Entity.to_dict`."""
    kind = str(item["type"])
    offset = _as_int(item.get("offset"))
    length = _as_int(item.get("length"))
    user = item.get("user")
    user_id = _as_int(user.get("id")) if isinstance(user, dict) else 0
    argument = ""
    for key in ("url", "language", "custom_emoji_id", "date_time_format"):
        value = item.get(key)
        if value is not None:
            argument = str(value)
    return Entity(kind, offset, length, argument, user_id, _as_int(item.get("unix_time")))


def _as_int(value: object) -> int:
    return value if isinstance(value, int) else 0


def sort_entities(entities: list[Entity]) -> None:
    """Sort in place the way TDLib orders entities."""
    entities.sort(key=Entity.sort_key)
