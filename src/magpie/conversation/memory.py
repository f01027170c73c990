"""In-memory twin of ConversationStore, for tests and for the bench's baseline."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from magpie.conversation.types import ConversationKey, Incoming, Line, Preferences, TurnRecord


class MemoryConversationStore:
    """Keeps everything in dicts; same behaviour as the SQL store."""

    def __init__(self) -> None:
        self.lines: dict[ConversationKey, list[Line]] = defaultdict(list)
        self.incoming: dict[ConversationKey, list[Incoming]] = defaultdict(list)
        self.turns: list[TurnRecord] = []
        self.fresh_from: dict[ConversationKey, int] = {}

    async def save_incoming(self, message: Incoming) -> None:
        known = {line.message_id for line in self.lines[message.key]}
        if message.message_id in known:
            return
        self.incoming[message.key].append(message)
        self.lines[message.key].append(
            Line(message.message_id, message.speaker.name, message.text, from_assistant=False)
        )

    async def answered(self, key: ConversationKey, message_id: int) -> bool:
        return any(t.key == key and t.trigger_message_id == message_id for t in self.turns)

    async def save_edit(self, message: Incoming) -> None:
        self.incoming[message.key] = [
            replace(m, text=message.text) if m.message_id == message.message_id else m
            for m in self.incoming[message.key]
        ]
        lines = self.lines[message.key]
        for index, line in enumerate(lines):
            if line.message_id == message.message_id and not line.from_assistant:
                lines[index] = Line(line.message_id, line.speaker, message.text, False)

    async def history(self, key: ConversationKey, *, limit: int) -> list[Line]:
        start = self.fresh_from.get(key, 0)
        return self.lines[key][start:][-limit:]

    async def start_fresh(self, key: ConversationKey) -> None:
        self.fresh_from[key] = len(self.lines[key])

    async def last_prompt(self, key: ConversationKey) -> Incoming | None:
        answered = {t.trigger_message_id for t in self.turns if t.key == key}
        for message in reversed(self.incoming[key]):
            if message.message_id in answered or not message.in_group:
                return message
        return None

    async def save_turn(self, turn: TurnRecord, *, asked: Incoming | None = None) -> None:
        if asked is not None:
            await self.save_incoming(asked)
        self.turns.append(turn)
        for sent in turn.sent:
            self.lines[turn.key].append(Line(sent.message_id, "assistant", sent.text, True))


class MemoryPreferences:
    """In-memory twin of PreferencesStore."""

    def __init__(self) -> None:
        self.chats: dict[int, Preferences] = {}

    async def get(self, chat_id: int) -> Preferences:
        return self.chats.get(chat_id, Preferences())

    async def set_model(self, chat_id: int, model: str | None) -> None:
        self.chats[chat_id] = replace(await self.get(chat_id), model=model)

    async def set_persona(self, chat_id: int, persona: str | None) -> None:
        self.chats[chat_id] = replace(await self.get(chat_id), persona=persona)

    async def set_tool(self, chat_id: int, tool: str, *, enabled: bool) -> None:
        current = await self.get(chat_id)
        disabled = current.disabled_tools - {tool} if enabled else current.disabled_tools | {tool}
        self.chats[chat_id] = replace(current, disabled_tools=disabled)
