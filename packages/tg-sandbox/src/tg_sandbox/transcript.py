"""Everything bots did, in order: method, parameters, outcome, time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Entry:
    """One Bot API call as the sandbox saw it."""

    seq: int
    at: float
    bot_id: int
    method: str
    params: dict[str, Any]
    ok: bool
    result: Any = None
    error: str | None = None
    error_code: int | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "seq": self.seq,
            "at": self.at,
            "bot_id": self.bot_id,
            "method": self.method,
            "params": self.params,
            "ok": self.ok,
        }
        if self.ok:
            data["result"] = self.result
        else:
            data["error"] = self.error
            data["error_code"] = self.error_code
        return data


class Transcript:
    """Append-only log of calls, bounded so a long demo does not grow without limit."""

    def __init__(self, keep: int = 100_000) -> None:
        self._entries: list[Entry] = []
        self._keep = keep
        self._seq = 0
        self._ok_counts: dict[str, int] = {}

    def record(self, **fields: Any) -> Entry:
        self._seq += 1
        entry = Entry(seq=self._seq, **fields)
        if entry.ok:
            self._ok_counts[entry.method] = self._ok_counts.get(entry.method, 0) + 1
        self._entries.append(entry)
        if len(self._entries) > self._keep:
            del self._entries[: len(self._entries) - self._keep]
        return entry

    def entries(
        self,
        *,
        method: str | None = None,
        bot_id: int | None = None,
        since: int = 0,
        ok: bool | None = None,
    ) -> list[Entry]:
        wanted = method.lower() if method else None
        return [
            e
            for e in self._entries
            if e.seq > since
            and (wanted is None or e.method.lower() == wanted)
            and (bot_id is None or e.bot_id == bot_id)
            and (ok is None or e.ok == ok)
        ]

    def counts(self) -> dict[str, int]:
        """Successful calls per method, over the whole life of the transcript."""
        return dict(self._ok_counts)

    def clear(self) -> None:
        self._entries.clear()
