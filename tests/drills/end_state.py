"""A drill's end state: what each user saw and what the database holds, per message sent.

Counted per message a drill's user sent:

- answered once: exactly one reply quoting it reached the chat (in a group: replying to it);
- resent: more than one did, all the same text — the reply recorded before it was sent, sent
  again after Magpie was killed between Telegram taking it and Magpie recording that it did
  (the one at-least-once edge, ADR 12; allowed only where a drill kills Magpie);
- answered twice: more than one did, with different texts (never allowed);
- failed with a reason: no reply, and its update is recorded `failed` with an error;
- lost: no reply and no such record (never recorded, marked done, or failed without a reason);
- not stored: the user's message is missing from `messages`.

And per turn: every turn recorded `answered` has its reply in `messages` and in the chat.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from magpie.storage.tables import InboxRow, MessageRow, TurnRow
from tests.drills.harness import Drill, quoted_token

EXAMPLES = 8  # evidence lines per kind of violation
VERDICT = re.compile(r"^[\w.]+(Error|Exception|Undelivered)\b")  # "sqlite3.OperationalError: ..."


@dataclass(frozen=True, slots=True)
class InboxEntry:
    update_id: int
    status: str
    error: str | None
    attempts: int


@dataclass
class Tally:
    """The counts a drill reports, and what is wrong with the end state (empty: all is well)."""

    scenario: str
    database: str
    sent: int = 0
    answered_once: int = 0
    resent: int = 0
    answered_twice: int = 0
    failed_with_reason: int = 0
    lost: int = 0
    not_stored: int = 0
    answered_undelivered: int = 0
    pending: int = 0
    other_bot_messages: int = 0  # apologies, greetings: not answers to anything
    unrecorded_replies: int = 0  # answers the users got that `messages` does not hold
    inbox: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # what fails the drill
    evidence: list[str] = field(default_factory=list)  # why, with update ids and log lines
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        inbox = ", ".join(f"{status} {n}" for status, n in sorted(self.inbox.items()))
        return (
            f"{self.scenario} on {self.database}: in {self.sent}, answered once "
            f"{self.answered_once}, resent (same text) {self.resent}, answered twice "
            f"{self.answered_twice}, lost {self.lost}, "
            f"failed with reason {self.failed_with_reason}; not stored {self.not_stored}, "
            f"answered turns without a delivered reply {self.answered_undelivered}, "
            f"pending {self.pending}; other bot messages {self.other_bot_messages}, "
            f"answers delivered but not recorded {self.unrecorded_replies}; "
            f"inbox: {inbox}"
        )

    def report(self) -> str:
        parts = [self.line(), *(f"  note: {n}" for n in self.notes)]
        parts += [f"  PROBLEM: {p}" for p in self.problems]
        parts += [f"    {e}" for e in self.evidence]
        return "\n".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "database": self.database,
            "in": self.sent,
            "answered_once": self.answered_once,
            "resent": self.resent,
            "answered_twice": self.answered_twice,
            "lost": self.lost,
            "failed_with_reason": self.failed_with_reason,
            "not_stored": self.not_stored,
            "answered_undelivered": self.answered_undelivered,
            "pending": self.pending,
            "unrecorded_replies": self.unrecorded_replies,
            "problems": self.problems,
        }


def _update_ids(
    drill: Drill, inbox: dict[int, tuple[InboxEntry, str]]
) -> tuple[dict[tuple[int, int], int], dict[int, int]]:
    """Update ids of the drill's messages ((chat id, message id) -> update id) and of Magpie's
    joins (chat id -> update id): from what the sandbox served, and what the inbox holds."""
    messages: dict[tuple[int, int], int] = {}
    joins: dict[int, int] = {}

    def learn(update: dict[str, Any]) -> None:
        if message := update.get("message"):
            messages.setdefault((message["chat"]["id"], message["message_id"]), update["update_id"])
        if member := update.get("my_chat_member"):
            joins.setdefault(member["chat"]["id"], update["update_id"])

    for entry in drill.sandbox.transcript(method="getUpdates", bot=drill.account):
        for update in entry.result if entry.ok and isinstance(entry.result, list) else []:
            learn(update)
    for _, payload in inbox.values():
        learn(json.loads(payload))
    return messages, joins


def trail(drill: Drill, update_id: int | None) -> str:
    """What each run logged about one update: the events, and the errors they carried."""
    if update_id is None:
        return "no update id (never served by getUpdates)"
    runs = []
    for run in drill.runs:
        said = []
        for line in run.lines:
            if line.get("update_id") != update_id:
                continue
            event = str(line.get("event"))
            error = _first_line(line.get("error")) or _last_line(line.get("exception"))
            said.append(f"{event}({error[:120]})" if error else event)
        if said:
            runs.append(f"{run.name}: {', '.join(said)}")
    return "; ".join(runs) or "no log line carries it"


def starts(drill: Drill) -> Counter[int]:
    """In how many runs Magpie began handling each update: a log line of its handling, not
    just of its scheduling at recovery."""
    started: Counter[int] = Counter()
    for run in drill.runs:
        started.update(
            {
                line["update_id"]
                for line in run.lines
                if isinstance(line.get("update_id"), int)
                and line.get("event") != "update.recovered"
            }
        )
    return started


def _first_line(text: object) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    return text.strip().splitlines()[0]


def _last_line(text: object) -> str | None:
    """A traceback's verdict: its last line that names the error."""
    if not isinstance(text, str):
        return None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    verdicts = [line for line in lines if VERDICT.match(line)]
    return verdicts[-1] if verdicts else (lines[-1] if lines else None)


async def read_end_state(
    drill: Drill,
    *,
    scenario: str,
    may_fail: bool = True,
    may_resend: bool = False,
    settled: bool = True,
) -> Tally:
    """Count the end state of a drill; `may_fail=False` when no message had a reason to fail,
    `may_resend=True` where the drill kills Magpie (the at-least-once edge of ADR 12)."""
    async with drill.checking.connect() as connection:
        inbox = {
            row.update_id: (
                InboxEntry(row.update_id, row.status, row.error, row.attempts),
                row.payload,
            )
            for row in await connection.execute(
                select(
                    InboxRow.update_id,
                    InboxRow.status,
                    InboxRow.error,
                    InboxRow.attempts,
                    InboxRow.payload,
                )
            )
        }
        stored = {
            (row.chat_id, row.message_id)
            for row in await connection.execute(
                select(MessageRow.chat_id, MessageRow.message_id).where(
                    MessageRow.outgoing.is_(False)
                )
            )
        }
        replies_of_turn: dict[int, list[tuple[int, int]]] = defaultdict(list)
        recorded: set[tuple[int, int]] = set()  # outgoing messages Magpie knows it sent
        for row in await connection.execute(
            select(MessageRow.turn_id, MessageRow.chat_id, MessageRow.message_id).where(
                MessageRow.outgoing.is_(True)
            )
        ):
            recorded.add((row.chat_id, row.message_id))
            if row.turn_id is not None:
                replies_of_turn[row.turn_id].append((row.chat_id, row.message_id))
        answered_turns = list(
            await connection.execute(
                select(TurnRow.id, TurnRow.chat_id, TurnRow.trigger_message_id).where(
                    TurnRow.outcome == "answered"
                )
            )
        )

    tally = Tally(scenario, drill.backend, sent=len(drill.asked))
    tally.inbox = Counter(entry.status for entry, _ in inbox.values())
    tally.pending = tally.inbox.get("pending", 0)
    if not settled:
        tally.problems.append("Magpie never settled: updates unacknowledged or still pending")

    replies: dict[int, list[int | None]] = defaultdict(list)  # token -> reply_to of each reply
    texts: dict[int, set[str]] = defaultdict(set)  # token -> the texts of its replies
    greetings: Counter[int] = Counter()  # group chat id -> bot messages quoting nothing
    bot_ids: set[tuple[int, int]] = set()
    for chat in drill.chats():
        for message in drill.bot_messages(chat):
            bot_ids.add((chat.id, message.message_id))
            token = quoted_token(message.text)
            if token is not None:
                replies[token].append(message.reply_to)
                texts[token].add(message.text or "")
                tally.unrecorded_replies += (chat.id, message.message_id) not in recorded
            elif chat.id in drill.joined:
                greetings[chat.id] += 1
            else:
                tally.other_bot_messages += 1

    update_of, join_update = _update_ids(drill, inbox)
    started = starts(drill)
    failed_starts: Counter[int] = Counter()  # runs that began a failed update -> how many
    examples: dict[str, list[str]] = defaultdict(list)

    def note(kind: str, what: str, update_id: int | None, detail: str) -> None:
        if len(examples[kind]) < EXAMPLES:
            examples[kind].append(
                f"{kind}: {what} (update {update_id}) {detail}; log: {trail(drill, update_id)}"
            )

    def record_of(update_id: int | None) -> tuple[InboxEntry | None, str]:
        entry = inbox[update_id][0] if update_id in inbox else None
        if entry is None:
            return None, "no inbox row"
        return entry, f"inbox {entry.status}, attempts {entry.attempts}, error {entry.error!r}"

    def count(
        got: int,
        entry: InboxEntry | None,
        what: str,
        update_id: int | None,
        record: str,
        *,
        same: bool = False,
    ) -> None:
        if got == 1:
            tally.answered_once += 1
        elif got > 1 and same:
            tally.resent += 1
            if not may_resend:
                note("resent", what, update_id, f"{got} replies, the same text; {record}")
        elif got > 1:
            tally.answered_twice += 1
            note("answered twice", what, update_id, f"{got} replies; {record}")
        elif entry is not None and entry.status == "failed" and entry.error:
            tally.failed_with_reason += 1
            failed_starts[started[entry.update_id]] += 1
            if not may_fail:
                note(
                    "failed",
                    what,
                    update_id,
                    f"{record}; started in {started[entry.update_id]} run(s)",
                )
        else:
            tally.lost += 1
            note("lost", what, update_id, record)

    unthreaded = 0
    for asked in drill.asked:
        update_id = update_of.get((asked.chat_id, asked.message_id))
        entry, record = record_of(update_id)
        what = f"k{asked.token:06d} (chat {asked.chat_id}, message {asked.message_id})"
        got = replies.get(asked.token, [])
        if asked.group and any(reply_to != asked.message_id for reply_to in got):
            unthreaded += 1
            note("unthreaded", what, update_id, "a reply in the group does not reply to it")
        count(len(got), entry, what, update_id, record, same=len(texts[asked.token]) == 1)
        if (asked.chat_id, asked.message_id) not in stored:
            tally.not_stored += 1
            note("not stored", what, update_id, record)
    for chat_id in drill.joined:  # Magpie added to a group: it greets once
        tally.sent += 1
        update_id = join_update.get(chat_id)
        entry, record = record_of(update_id)
        count(greetings[chat_id], entry, f"greeting in group {chat_id}", update_id, record)

    for turn in answered_turns:
        delivered = [r for r in replies_of_turn.get(turn.id, []) if r in bot_ids]
        if not delivered:
            tally.answered_undelivered += 1
            if len(examples["answered, not delivered"]) < EXAMPLES:
                examples["answered, not delivered"].append(
                    f"answered, not delivered: turn {turn.id} for message "
                    f"{turn.trigger_message_id} in chat {turn.chat_id}: stored replies "
                    f"{replies_of_turn.get(turn.id, [])}"
                )

    checks = [
        (tally.answered_twice, "message(s) answered more than once, differently"),
        (tally.lost, "message(s) lost: no reply and not recorded as failed with a reason"),
        (tally.not_stored, "user message(s) not stored"),
        (tally.answered_undelivered, "turn(s) recorded answered without a delivered reply"),
        (tally.pending, "inbox row(s) still pending at the end"),
        (unthreaded, "group repl(ies) not replying to the message they answer"),
    ]
    if not may_fail:
        checks.append(
            (tally.failed_with_reason, "message(s) failed though none had a reason to fail")
        )
    if not may_resend:
        checks.append((tally.resent, "message(s) sent twice though Magpie was never killed"))
    tally.problems += [f"{n} {what}" for n, what in checks if n]
    if failed_starts:
        tally.notes.append(
            "failed updates by the runs that began handling them: "
            + ", ".join(f"{runs} run(s): {n}" for runs, n in sorted(failed_starts.items()))
        )
    for lines in examples.values():
        tally.evidence += lines
    return tally
