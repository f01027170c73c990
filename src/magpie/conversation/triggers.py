"""Whether the assistant should answer a message: private chats always, groups when addressed."""

from __future__ import annotations

import re
from enum import StrEnum

from magpie.conversation.types import Identity, Incoming


class Trigger(StrEnum):
    """Why the assistant answers."""

    PRIVATE = "private"
    MENTION = "mention"
    REPLY = "reply"
    NAME = "name"
    COMMAND = "command"


def _names_pattern(aliases: tuple[str, ...]) -> re.Pattern[str] | None:
    words = [re.escape(alias) for alias in aliases if alias.strip()]
    if not words:
        return None
    return re.compile(rf"(?<![\w@])(?:{'|'.join(words)})(?!\w)", re.IGNORECASE)


def why_answer(message: Incoming, me: Identity) -> Trigger | None:
    """The reason to answer, or None to stay silent (the message is still remembered)."""
    if message.speaker.is_bot:
        return None
    if not message.in_group:
        return Trigger.PRIVATE
    addressing = message.addressing
    username = me.username.lower()
    if addressing.command is not None and addressing.command_target in (None, username):
        return Trigger.COMMAND
    if username in addressing.mentions or me.id in addressing.mentioned_ids:
        return Trigger.MENTION
    if addressing.replies_to_bot:
        return Trigger.REPLY
    pattern = _names_pattern(me.aliases)
    if pattern is not None and pattern.search(message.text):
        return Trigger.NAME
    return None
