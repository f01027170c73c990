"""In-memory twin of ConversationStore, for tests and for the bench's baseline."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import replace
from datetime import datetime

from magpie.conversation.types import (
    Approval,
    ApprovalStatus,
    ConversationKey,
    Incoming,
    Line,
    NewApproval,
    Preferences,
    TurnRecord,
)


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

    async def recorded(self, key: ConversationKey, message_id: int) -> TurnRecord | None:
        found = [t for t in self.turns if t.key == key and t.trigger_message_id == message_id]
        return replace(found[-1], sent=()) if found else None

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
        since = {line.message_id for line in await self.history(key, limit=len(self.lines[key]))}
        for message in reversed(self.incoming[key]):
            if message.message_id not in since:
                break  # from before /new
            if message.message_id in answered or not message.in_group:
                return message
        return None

    async def begin_turn(self, turn: TurnRecord, *, asked: Incoming | None = None) -> None:
        if asked is not None:
            await self.save_incoming(asked)
        self.turns.append(turn)

    async def finish_turn(self, turn: TurnRecord) -> None:
        newest = max(
            i
            for i, t in enumerate(self.turns)
            if t.key == turn.key and t.trigger_message_id == turn.trigger_message_id
        )
        begun = self.turns[newest]
        self.turns[newest] = replace(
            begun, outcome=turn.outcome, error=turn.error, latency_ms=turn.latency_ms
        )
        for sent in turn.sent:
            self.lines[turn.key].append(Line(sent.message_id, "assistant", sent.text, True))

    async def revise_reply(self, key: ConversationKey, message_id: int, text: str) -> None:
        lines = self.lines[key]
        for index, line in enumerate(lines):
            if line.message_id == message_id and line.from_assistant:
                lines[index] = Line(message_id, line.speaker, text, True)


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


class MemoryApprovals:
    """In-memory twin of ApprovalStore."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.approvals: dict[int, Approval] = {}

    async def open(self, approval: NewApproval) -> int:
        approval_id = next(self._ids)
        self.approvals[approval_id] = Approval(
            id=approval_id,
            key=approval.key,
            user_id=approval.user_id,
            user_name=approval.user_name,
            parked=approval.parked,
            trigger_message_id=approval.trigger_message_id,
            expires_at=approval.expires_at,
            status=ApprovalStatus.PENDING,
        )
        return approval_id

    async def shown(self, approval_id: int, *, message_id: int, question: str) -> None:
        self.approvals[approval_id] = replace(
            self.approvals[approval_id], question_message_id=message_id, question=question
        )

    async def get(self, approval_id: int) -> Approval | None:
        return self.approvals.get(approval_id)

    async def decide(
        self, approval_id: int, status: ApprovalStatus, *, again: bool = False
    ) -> bool:
        approval = self.approvals.get(approval_id)
        if approval is None:
            return False
        if approval.status is ApprovalStatus.PENDING:
            self.approvals[approval_id] = replace(approval, status=status)
            return True
        return again and approval.status is status

    async def done(self, approval_id: int) -> None:
        approval = self.approvals[approval_id]
        self.approvals[approval_id] = replace(approval, status=ApprovalStatus.DONE)

    async def due(self, now: datetime, *, limit: int = 100) -> list[Approval]:
        due = [
            a
            for a in self.approvals.values()
            if a.status is ApprovalStatus.PENDING and a.expires_at <= now
        ]
        return due[:limit]

    async def pending_in(self, key: ConversationKey) -> list[Approval]:
        return [
            a
            for a in self.approvals.values()
            if a.key == key and a.status is ApprovalStatus.PENDING
        ]
