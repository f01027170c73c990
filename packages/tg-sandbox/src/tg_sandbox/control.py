"""The control surface: the world, the Bot API over it, the people in it, and how to set it up.

Everything but the listening server, which `Sandbox` (sandbox.py) adds; the HTTP routes
(server.py, control_http.py, webchat/) are built on this class, so none of them imports it back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from tg_sandbox.api import BotApi
from tg_sandbox.bots import BotAccount
from tg_sandbox.clock import Clock
from tg_sandbox.faults import Fault
from tg_sandbox.flood import FloodPolicy
from tg_sandbox.model import ADMIN_RIGHTS, Chat, MemberStatus, Message, Topic, User
from tg_sandbox.params import Params
from tg_sandbox.people import People
from tg_sandbox.render import message_json
from tg_sandbox.transcript import Entry
from tg_sandbox.webhook import RetryPolicy, WebhookDelivery
from tg_sandbox.world import World


@dataclass(frozen=True, slots=True)
class BotSpec:
    """A bot the sandbox creates at start and after every reset."""

    token: str
    username: str
    first_name: str = "Magpie"
    privacy_mode: bool = True


def new_token(bot_id: int | None = None) -> str:
    """A well-formed token, e.g. `7000000001:SANDBOX-...`."""
    number = bot_id or 7_000_000_000 + secrets.randbelow(999_999_999)
    return f"{number}:SANDBOX-{secrets.token_urlsafe(24)}"


@dataclass
class ControlSurface:
    """A stateful Bot API with a Python control surface; `Sandbox` serves both over HTTP."""

    bots: list[BotSpec] = field(default_factory=list)
    clock: Clock | None = None
    flood: FloodPolicy = field(default_factory=FloodPolicy)
    webhook_retry: RetryPolicy = field(default_factory=RetryPolicy)
    anti_spin: bool = True  # Telegram slows clients that repeat one offset; tests turn it off

    def __post_init__(self) -> None:
        self._build_world()

    def _build_world(self) -> None:
        self.world = World(clock=self.clock, flood=self.flood, anti_spin=self.anti_spin)
        self.webhooks = WebhookDelivery(self._from_webhook, self.webhook_retry)
        self.api = BotApi(self.world, self.webhooks)
        self.people = People(self.world)
        for spec in self.bots:
            self.world.add_bot(
                spec.token,
                username=spec.username,
                first_name=spec.first_name,
                privacy_mode=spec.privacy_mode,
            )

    async def _from_webhook(self, bot: BotAccount, method: str, params: Params) -> Any:
        return await self.api.call(bot.token, method, params)

    async def close(self) -> None:
        """Answer held long polls and scripted hangs now, and stop delivering webhooks."""
        self.world.faults.release()
        for bot in self.world.bots.values():
            if bot.held_poll is not None and not bot.held_poll.done():
                bot.held_poll.set_result(None)
        await self.webhooks.close()

    async def reset(self) -> None:
        """Forget everything except the bots configured at start."""
        self.world.faults.release()
        await self.webhooks.close()
        self._build_world()

    # --- setup ------------------------------------------------------------------------------

    def add_bot(
        self,
        *,
        token: str | None = None,
        username: str = "magpie_bot",
        first_name: str = "Magpie",
        privacy_mode: bool = True,
    ) -> BotAccount:
        spec = BotSpec(token or new_token(), username, first_name, privacy_mode)
        self.bots.append(spec)
        return self.world.add_bot(
            spec.token, username=username, first_name=first_name, privacy_mode=privacy_mode
        )

    def bot(self, token_or_username: str | None = None) -> BotAccount:
        """A bot by token or username; the only bot when there is one."""
        bots = list(self.world.bots.values())
        if token_or_username is None:
            if len(bots) != 1:
                raise LookupError("name the bot: the sandbox has several")
            return bots[0]
        for bot in bots:
            if token_or_username in (bot.token, bot.username):
                return bot
        raise LookupError(f"no bot {token_or_username!r}")

    def add_user(self, first_name: str, **fields: Any) -> User:
        return self.world.add_user(first_name, **fields)

    def add_group(
        self,
        title: str,
        *,
        members: list[User] = (),  # type: ignore[assignment]
        forum: bool = False,
        kind: str = "supergroup",
        creator: User | None = None,
        username: str | None = None,
    ) -> Chat:
        owner = creator or (members[0] if members else None)
        chat = self.world.add_group(
            title,
            kind="group" if kind == "group" else "supergroup",
            forum=forum,
            username=username,
            creator=owner,
        )
        for user in members:
            if user is not owner:
                self.world.set_member_status(chat, user, "member", by=owner or user)
        return chat

    def add_channel(self, title: str, *, owner: User, username: str | None = None) -> Chat:
        return self.world.add_group(title, kind="channel", username=username, creator=owner)

    def add_bot_to_chat(
        self,
        bot: BotAccount,
        chat: Chat,
        *,
        admin: bool = False,
        rights: frozenset[str] | None = None,
        by: User | None = None,
    ) -> None:
        """Add a bot as member or admin; it gets my_chat_member and the service message."""
        adder = by or self._owner(chat)
        if admin:
            granted = (
                rights if rights is not None else frozenset(ADMIN_RIGHTS) | {"can_manage_topics"}
            )
            self.world.set_member_status(chat, bot.user, "administrator", by=adder, rights=granted)
        else:
            self.world.set_member_status(chat, bot.user, "member", by=adder)

    def add_member(self, chat: Chat, user: User, *, admin: bool = False) -> None:
        status: MemberStatus = "administrator" if admin else "member"
        rights = frozenset(ADMIN_RIGHTS) if admin else frozenset()
        self.world.set_member_status(chat, user, status, by=self._owner(chat), rights=rights)

    def remove_member(self, chat: Chat, user: User) -> None:
        self.world.set_member_status(chat, user, "left", by=self._owner(chat))

    def create_topic(self, chat: Chat, name: str, *, by: User | None = None) -> Topic:
        return self.world.create_topic(chat, name, by=by or self._owner(chat))

    def _owner(self, chat: Chat) -> User:
        owner = next((m for m in chat.members.values() if m.status == "creator"), None)
        if owner is None:
            raise LookupError("the chat has no owner")
        return self.world.users[owner.user_id]

    # --- reading ----------------------------------------------------------------------------

    def transcript(
        self, *, method: str | None = None, bot: BotAccount | None = None, since: int = 0
    ) -> list[Entry]:
        return self.world.transcript.entries(
            method=method, bot_id=bot.id if bot else None, since=since
        )

    def messages(self, chat: Chat) -> list[Message]:
        return list(chat.messages.values())

    def message_json(self, message: Message) -> dict[str, Any]:
        """A message as bots receive it: Bot API JSON, the message it replies to included."""
        return message_json(self.world.users, message)

    def private_chat(self, bot: BotAccount, user: User) -> Chat:
        return self.world.private_chat(bot, user)

    # --- faults -----------------------------------------------------------------------------

    def inject(self, method: str, **fault: Any) -> Fault:
        """The next `times` calls of `method` fail as described (status, kind, retry_after...)."""
        planned = Fault(method=method, **fault)
        self.world.faults.add(planned)
        return planned
