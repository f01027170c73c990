"""Fault drills' harness: Magpie as its own process against the sandbox, so kill -9 is real.

Magpie runs as its own process — `magpie run`, forked from a launcher that has imported it
once (process.py, launcher.py) — with its settings in the environment and JSON logs on
stderr, read line by line (every line wakes the drill, so nothing waits on a timer).
The sandbox (a Bot API server in this process) plays Telegram and the people in it. Each user
message carries a unique token ("k000042"); the offline model quotes the message back
("You wrote: …"), so every reply can be traced to the message it answers.

This is the one module of the drills that imports the sandbox: when it moves to its own
package, this import is the line to change.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tg_sandbox import BotAccount, Chat, FloodPolicy, Message, Sandbox, User

from magpie.config import Settings
from magpie.storage.database import create_engine
from magpie.storage.tables import InboxRow
from tests.drills.process import Launcher, MagpieProcess, Wakeup

__all__ = [
    "BotAccount",
    "Chat",
    "Drill",
    "FloodPolicy",
    "Launcher",
    "MagpieProcess",
    "Message",
    "Sandbox",
]

TOKEN = "7000000001:SANDBOX-drills"
BOT_USERNAME = "magpie_bot"
TOKEN_PATTERN = re.compile(r"\bk(\d{6})\b")
QUOTED = re.compile(r"You wrote: (.*?)(?:\n\n|\Z)", re.S)  # the quote ends at a blank line
# Magpie's own settings: never inherited from the environment the tests run in.
SETTING_NAMES = {name.upper() for name in Settings.model_fields} | {
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
}
IDLE_SECONDS = 5.0  # nothing happening for this long: Magpie has nothing left to do
# ...and at the end, with updates still pending: longer, so a retry Magpie schedules for later
# is waited for (one due later than this would read as "never settled").
SETTLE_IDLE_SECONDS = 30.0


def new_sandbox() -> Sandbox:
    """The sandbox the drills use: no flood control (the drills inject their own 429s)."""
    return Sandbox(flood=FloodPolicy(enabled=False), anti_spin=False)


def quoted_token(text: str | None) -> int | None:
    """The token of the message a reply quotes, or None for any other bot message. A reply
    quotes its own message last: an earlier message that got no answer (it failed) is folded
    into the prompt before it, and quoted with it."""
    found = QUOTED.search(text or "")
    tokens = TOKEN_PATTERN.findall(found.group(1)) if found else []
    return int(tokens[-1]) if tokens else None


@dataclass(frozen=True, slots=True)
class Asked:
    """A message a drill's user sent, with the token its answer must quote."""

    token: int
    chat_id: int
    message_id: int
    text: str
    group: bool


@dataclass
class Drill:
    """One drill: the sandbox, the bot, the database, the messages sent and Magpie's runs."""

    sandbox: Sandbox
    account: BotAccount
    backend: str  # "sqlite" or "postgres"
    database_url: str  # what Magpie connects to (a drill may put a proxy in between)
    check_url: str  # the same database, directly: for reading the end state
    workdir: Path
    launcher: Launcher
    seed: int = 10
    patience: float = 60.0  # how long any one state may take to come (bigger drills: longer)
    runs: list[MagpieProcess] = field(default_factory=list)
    asked: list[Asked] = field(default_factory=list)
    joined: list[int] = field(default_factory=list)  # groups Magpie was added to
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.wakeup = Wakeup()
        self._sent_in: dict[int, int] = {}  # chat id -> messages the drill's users sent there
        self._chats: dict[int, Chat] = {}

    # --- people and their messages -----------------------------------------------------------

    def people(self, count: int, *, prefix: str = "U") -> list[User]:
        return [self.sandbox.add_user(f"{prefix}{i:03d}") for i in range(count)]

    def group(self, title: str, members: list[User]) -> Chat:
        """A group with Magpie added to it: one more update, which Magpie answers with a
        greeting (counted like an answer)."""
        chat = self.sandbox.add_group(title, members=members)
        self.sandbox.add_bot_to_chat(self.account, chat)
        self.joined.append(chat.id)
        self._sent_in[chat.id] = self._sent_in.get(chat.id, 0) + len(chat.messages)
        self._chats[chat.id] = chat
        return chat

    def ask(self, user: User, where: Chat | None = None) -> Asked:
        """One message with a fresh token: in the user's private chat, or mentioning Magpie in
        a group."""
        token = len(self.asked)
        words = f"hello from {user.first_name}, this is k{token:06d}"
        if where is None:
            sent = self.sandbox.people.send_text(user, self.account, words)
        else:
            sent = self.sandbox.people.send_text(user, where, f"@{BOT_USERNAME} {words}")
        asked = Asked(token, sent.chat_id, sent.message_id, sent.text or "", where is not None)
        self.asked.append(asked)
        self._sent_in[sent.chat_id] = self._sent_in.get(sent.chat_id, 0) + 1
        self._chats[sent.chat_id] = sent.chat
        return asked

    def backlog(self, users: list[User], per_user: int, where: Chat | None = None) -> None:
        """`per_user` messages from each user, interleaved as a busy bot would receive them."""
        for _ in range(per_user):
            for user in users:
                self.ask(user, where)

    # --- what the sandbox shows --------------------------------------------------------------

    def chats(self) -> list[Chat]:
        return list(self._chats.values())

    def chat(self, chat_id: int) -> Chat:
        return self._chats[chat_id]

    def bot_messages(self, chat: Chat) -> Iterable[Message]:
        return (m for m in chat.messages.values() if m.sender_id == self.account.id)

    def bot_message_count(self, chat: Chat) -> int:
        """Messages Magpie has put in a chat (cheap: the chat's message counter)."""
        return chat.next_message_id - 1 - self._sent_in.get(chat.id, 0)

    def sends(self) -> int:
        """Successful sendMessage calls so far (the sandbox's counter, cheap)."""
        return self.sandbox.world.transcript.counts().get("sendMessage", 0)

    def answered_tokens(self) -> set[int]:
        return {
            token
            for chat in self.chats()
            for m in self.bot_messages(chat)
            if (token := quoted_token(m.text)) is not None
        }

    # --- Magpie's runs -----------------------------------------------------------------------

    def magpie_env(self, **settings: object) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if k.upper() not in SETTING_NAMES}
        values: dict[str, object] = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": self.sandbox.url,
            "DATABASE_URL": self.database_url,
            "DATA_DIR": self.workdir / "data",
            "LLM_MODEL": "offline",
            "OFFLINE_WORDS_PER_SECOND": 0,
            # the sandbox's flood control is off here (the drills inject their own 429s), and
            # Magpie's own limits would only stretch the drills in real time
            "SEND_PER_CHAT_PER_SECOND": 0,
            "SEND_PER_GROUP_PER_MINUTE": 0,
            "SEND_PER_SECOND": 0,
            "USER_MESSAGES_PER_MINUTE": 0,
            "USER_MESSAGES_PER_DAY": 0,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
        }
        values |= self.env
        values |= {key.upper(): value for key, value in settings.items()}
        return inherited | {key: str(value) for key, value in values.items()}

    async def start(self, **settings: object) -> MagpieProcess:
        """Start one more run of Magpie; `settings` override the drill's (grace, pace...)."""
        run = await MagpieProcess.start(
            f"run{len(self.runs) + 1}",
            env=self.magpie_env(**settings),
            cwd=self.workdir,
            wakeup=self.wakeup,
            launcher=self.launcher,
        )
        self.runs.append(run)
        return run

    async def next_change(self, *, seconds: float = 1.0) -> bool:
        """Return on the next change in the sandbox or the next log line (True), or after
        `seconds` of quiet (False): states only the database shows are checked then."""
        world = self.sandbox.world
        version = world.version
        changed = asyncio.ensure_future(world.wait_for_change(version, seconds))
        logged = asyncio.ensure_future(self.wakeup.wait())
        done, waiting = await asyncio.wait({changed, logged}, return_when=asyncio.FIRST_COMPLETED)
        for task in waiting:
            task.cancel()
        return logged in done or world.version != version

    async def until(
        self,
        condition: Callable[[], object],
        *,
        within: float | None = None,
        idle: float | None = None,
        watching: MagpieProcess | None = None,
    ) -> bool:
        """Wait for a state, checked on every change; False if it did not come within `within`
        seconds (the drill's patience), or — given `idle` — once nothing at all has happened
        for `idle` seconds (Magpie has nothing left to do: the state will not come). Raises if
        the watched run exits on its own meanwhile."""
        loop = asyncio.get_running_loop()
        last_change = loop.time()
        try:
            async with asyncio.timeout(within or self.patience):
                while not condition():
                    if watching is not None and watching.exited:
                        raise RuntimeError(
                            f"Magpie {watching.name} exited on its own with code "
                            f"{watching.returncode}; last lines: {watching.lines[-5:]}"
                        )
                    if await self.next_change():
                        last_change = loop.time()
                    elif idle is not None and loop.time() - last_change >= idle:
                        return False
        except TimeoutError:
            return False
        return True

    async def pending_in_inbox(self) -> int:
        async with self.checking.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(InboxRow).where(InboxRow.status == "pending")
            )
        return int(count or 0)

    async def settle(self, run: MagpieProcess, *, within: float | None = None) -> bool:
        """Every update acknowledged to the sandbox and none left pending in the inbox. False
        if that did not happen within `within` seconds (twice the drill's patience), or if
        Magpie sat idle meanwhile (what is left, it will not do). The inbox is read when things
        are quiet (a second without a change), not on every change."""
        loop = asyncio.get_running_loop()
        last_change = loop.time()
        try:
            async with asyncio.timeout(within or 2 * self.patience):
                while not run.exited:
                    if await self.next_change():
                        last_change = loop.time()
                        continue
                    if not len(self.account.queue) and not await self.pending_in_inbox():
                        return True
                    if loop.time() - last_change >= SETTLE_IDLE_SECONDS:
                        return False
        except TimeoutError:
            pass
        return False

    async def finish(self, run: MagpieProcess, *, within: float | None = None) -> bool:
        """Let the last run handle everything, then stop it as an operator would (SIGTERM)."""
        settled = await self.settle(run, within=within)
        await run.terminate(within=30.0)
        return settled

    @functools.cached_property
    def checking(self) -> AsyncEngine:
        """The drill's own connection to the database (not through any proxy)."""
        return create_engine(self.check_url, pooled=False)

    async def close(self) -> None:
        """Nothing outlives the drill."""
        for run in self.runs:
            await run.kill()
        await self.checking.dispose()
