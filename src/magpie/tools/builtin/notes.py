"""The notes tools (save, find) on the chat's notes, and an in-memory notes store."""

from __future__ import annotations

from collections import defaultdict

from magpie.tools.deps import Note, ToolDeps

MAX_NOTE = 2_000  # characters
SHOWN = 10


async def save_note(deps: ToolDeps, text: str) -> str:
    """Save a short note for this chat (up to 2000 characters) so it can be found later."""
    text = text.strip()
    if not text:
        return "there is nothing to save: the note is empty"
    if len(text) > MAX_NOTE:
        return f"that note is too long ({len(text)} characters; at most {MAX_NOTE})"
    note = await deps.notes.add(
        deps.chat_id, author_id=deps.user_id, author=deps.user_name, text=text
    )
    return f"saved note #{note.id}"


async def find_notes(deps: ToolDeps, query: str = "") -> str:
    """Search this chat's saved notes by words, newest first; an empty query lists the latest."""
    notes = await deps.notes.find(deps.chat_id, query.strip(), limit=SHOWN)
    if not notes:
        return (
            f"no notes match {query.strip()!r}" if query.strip() else "this chat has no notes yet"
        )
    return "\n".join(f"#{note.id} ({note.author}): {note.text}" for note in notes)


class MemoryNotes:
    """Notes kept in a dict per chat: the in-memory twin of the database-backed store."""

    def __init__(self) -> None:
        self._chats: defaultdict[int, list[Note]] = defaultdict(list)
        self._last_id = 0

    async def add(self, chat_id: int, *, author_id: int, author: str, text: str) -> Note:
        """Store a note in `chat_id` with the next id."""
        self._last_id += 1
        note = Note(id=self._last_id, text=text, author=author)
        self._chats[chat_id].append(note)
        return note

    async def find(self, chat_id: int, query: str, *, limit: int = 10) -> list[Note]:
        """Notes containing each of the first 8 words of `query` (any case), newest first."""
        words = query.casefold().split()[:8]
        newest_first = reversed(self._chats.get(chat_id, []))
        found = [n for n in newest_first if all(w in n.text.casefold() for w in words)]
        return found[:limit]
