"""All sandbox state in one place, and the operations both bots and simulated users perform."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import secrets
from typing import Any

from tg_sandbox.bots import BotAccount
from tg_sandbox.clock import Clock, SystemClock
from tg_sandbox.errors import bad_request, forbidden
from tg_sandbox.faults import FaultPlan
from tg_sandbox.flood import FloodControl, FloodPolicy
from tg_sandbox.model import (
    Charge,
    Chat,
    ChatType,
    Draft,
    Invoice,
    Member,
    MemberStatus,
    Message,
    PendingCheckout,
    StoredFile,
    Topic,
    User,
)
from tg_sandbox.privacy import receives
from tg_sandbox.render import chat_json, member_json, message_json, user_json
from tg_sandbox.transcript import Transcript
from tg_sandbox.updates import UpdateQueue, wanted

DRAFT_TTL_SECONDS = 30.0
SUPERGROUP_ID_BASE = 1_000_000_000_000


class World:
    """Users, bots, chats, files and payments of one sandbox."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        flood: FloodPolicy | None = None,
        anti_spin: bool = True,
    ) -> None:
        self.clock = clock or SystemClock()
        self.anti_spin = anti_spin
        self.flood = FloodControl(flood or FloodPolicy(), self.clock)
        self.faults = FaultPlan()
        self.transcript = Transcript()
        self.users: dict[int, User] = {}
        self.bots: dict[str, BotAccount] = {}
        self.groups: dict[int, Chat] = {}
        self.private: dict[tuple[int, int], Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.checkouts: dict[str, PendingCheckout] = {}
        self.charges: dict[str, Charge] = {}
        self.invoices: dict[tuple[int, int], Invoice] = {}
        self.invoice_links: dict[str, Invoice] = {}
        self.checkout_waiters: dict[str, asyncio.Future[None]] = {}
        self.version = 0  # bumps on every visible change, so a chat page can wait for one
        self._change_waiters: list[asyncio.Future[None]] = []
        self.callback_queries: dict[str, tuple[int, float]] = {}  # id -> (bot id, created)
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.reactions: dict[tuple[int, int, int], list[Any]] = {}  # chat, message, bot
        self._user_ids = itertools.count(100_001)
        self._group_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    # --- time -----------------------------------------------------------------------------

    def now(self) -> int:
        return int(self.clock.now())

    # --- people and bots --------------------------------------------------------------------

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> User:
        user = User(
            id=user_id or next(self._user_ids),
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.users[user.id] = user
        return user

    def add_bot(
        self,
        token: str,
        *,
        username: str | None = None,
        first_name: str = "Magpie",
        privacy_mode: bool = True,
    ) -> BotAccount:
        bot_id = int(token.split(":", 1)[0])
        user = User(id=bot_id, first_name=first_name, username=username or f"bot{bot_id}_bot")
        user.is_bot = True
        self.users[bot_id] = user
        start = 1 + int.from_bytes(hashlib.sha256(token.encode()).digest()[:3], "big")
        bot = BotAccount(
            token=token, user=user, queue=UpdateQueue(self.clock, start), privacy_mode=privacy_mode
        )
        self.bots[token] = bot
        return bot

    def bot_by_id(self, bot_id: int) -> BotAccount | None:
        return next((b for b in self.bots.values() if b.id == bot_id), None)

    # --- chats ------------------------------------------------------------------------------

    def private_chat(self, bot: BotAccount, user: User) -> Chat:
        key = (bot.id, user.id)
        chat = self.private.get(key)
        if chat is None:
            chat = Chat(
                id=user.id,
                type="private",
                first_name=user.first_name,
                last_name=user.last_name,
                username=user.username,
                owner_bot_id=bot.id,
            )
            chat.members = {user.id: Member(user.id), bot.id: Member(bot.id)}
            self.private[key] = chat
        return chat

    def add_group(
        self,
        title: str,
        *,
        kind: ChatType = "supergroup",
        forum: bool = False,
        username: str | None = None,
        creator: User | None = None,
    ) -> Chat:
        n = next(self._group_ids)
        chat_id = -(SUPERGROUP_ID_BASE + n) if kind in ("supergroup", "channel") else -n
        chat = Chat(id=chat_id, type=kind, title=title, username=username, is_forum=forum)
        chat.next_message_id = 1
        if creator is not None:
            chat.members[creator.id] = Member(creator.id, "creator")
        self.groups[chat.id] = chat
        return chat

    def resolve_chat(self, bot: BotAccount, raw: str | None) -> Chat:
        """The chat a bot names in `chat_id`, with Telegram's errors."""
        if raw is None or raw.strip() == "":
            raise bad_request("chat_id is empty")
        raw = raw.strip()
        if raw.startswith("@"):
            name = raw[1:].lower()
            chat = next(
                (c for c in self.groups.values() if (c.username or "").lower() == name), None
            )
            if chat is None:
                raise bad_request("chat not found")
            return self._checked_group(bot, chat)
        try:
            chat_id = int(raw)
        except ValueError:
            raise bad_request("chat not found") from None
        if chat_id > 0:
            user = self.users.get(chat_id)
            if user is None:
                raise bad_request("chat not found")
            if user.is_bot:
                raise forbidden("the bot can't send messages to the bot")
            chat = self.private.get((bot.id, chat_id))
            if chat is None:
                raise forbidden("bot can't initiate conversation with a user")
            return chat
        group = self.groups.get(chat_id)
        if group is None:
            raise bad_request("chat not found")
        return self._checked_group(bot, group)

    def _checked_group(self, bot: BotAccount, chat: Chat) -> Chat:
        member = chat.members.get(bot.id)
        if member is None or not member.is_present:
            if member is not None and member.status == "kicked":
                raise forbidden(f"bot was kicked from the {_chat_word(chat)} chat")
            if chat.type == "group":
                raise forbidden("bot is not a member of the group chat")
            raise forbidden(f"bot is not a member of the {_chat_word(chat)} chat")
        return chat

    def ensure_can_send(self, bot: BotAccount, chat: Chat) -> None:
        if chat.type == "private":
            user = self.users[chat.id]
            if bot.id in user.blocked_bots:
                raise forbidden("bot was blocked by the user")

    # --- messages ---------------------------------------------------------------------------

    def post(
        self,
        chat: Chat,
        sender: User | None,
        content: dict[str, Any],
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        reply_markup: dict[str, Any] | None = None,
        forward_origin: dict[str, Any] | None = None,
    ) -> Message:
        """Put a message in a chat and tell every bot that should see it."""
        message_id = chat.allocate_message_id()
        is_topic = chat.is_forum and thread_id is not None and thread_id in chat.topics
        if is_topic and reply_to is None and thread_id != message_id:
            reply_to = thread_id  # Telegram: topic messages reply to the topic's first message
        message = Message(
            chat=chat,
            message_id=message_id,
            sender_id=sender.id if sender else None,
            date=self.now(),
            content=content,
            thread_id=thread_id if is_topic else None,
            reply_to=reply_to,
            reply_markup=reply_markup,
            forward_origin=forward_origin,
            is_topic_message=is_topic,
        )
        chat.messages[message.message_id] = message
        if sender is not None and sender.is_bot:
            chat.last_bot_sender = sender.id
            self.clear_drafts(sender.id, chat.id)
        self.announce(chat, message, "message")
        return message

    def changed(self) -> None:
        """Something a person could see has changed: wake whoever waits for that."""
        self.version += 1
        waiters, self._change_waiters = self._change_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for_change(self, after: int, seconds: float) -> int:
        """Return the version once it is past `after`, or after `seconds` anyway."""
        if self.version > after or seconds <= 0:
            return self.version
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._change_waiters.append(waiter)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter, seconds)
        return self.version

    def announce(self, chat: Chat, message: Message, kind: str) -> None:
        """Queue an update about `message` for every bot that receives it."""
        self.changed()
        sender = self.users.get(message.sender_id) if message.sender_id is not None else None
        sender_is_bot = bool(sender and sender.is_bot)
        if chat.type == "channel":
            kind = "channel_post" if kind == "message" else "edited_channel_post"
        payload: dict[str, Any] | None = None
        for bot_id in list(chat.members) if chat.type != "private" else [chat.owner_bot_id]:
            bot = self.bot_by_id(bot_id) if bot_id is not None else None
            if bot is None or not receives(bot, chat, message, sender_is_bot=sender_is_bot):
                continue
            payload = payload or message_json(self.users, message)
            self.push_update(bot, kind, payload, chat_key=chat.id)

    def push_update(
        self, bot: BotAccount, kind: str, payload: dict[str, Any], *, chat_key: int | None
    ) -> None:
        if wanted(kind, bot.allowed_updates):
            bot.queue.push(kind, payload, chat_key=chat_key)

    # --- membership and topics --------------------------------------------------------------

    def set_member_status(
        self,
        chat: Chat,
        user: User,
        status: MemberStatus,
        *,
        by: User,
        rights: frozenset[str] = frozenset(),
    ) -> None:
        """Change someone's membership, with the service message and member updates it causes."""
        old = chat.members.get(user.id) or Member(user.id, "left")
        new = Member(user.id, status, rights)
        chat.members[user.id] = new
        change = {
            "chat": chat_json(chat),
            "from": user_json(by),
            "date": self.now(),
            "old_chat_member": member_json(old, user),
            "new_chat_member": member_json(new, user),
        }
        if user.is_bot and (bot := self.bot_by_id(user.id)) is not None:
            self.push_update(bot, "my_chat_member", change, chat_key=chat.id)
        for member in chat.members.values():
            watcher = self.bot_by_id(member.user_id)
            if watcher is not None and member.is_admin and watcher.id != user.id:
                self.push_update(watcher, "chat_member", change, chat_key=chat.id)
        if chat.type == "channel":
            return
        if new.is_present and not old.is_present:
            self.post(chat, by, {"new_chat_members": [user_json(user)]})
        elif old.is_present and not new.is_present:
            self.post(chat, by, {"left_chat_member": user_json(user)})

    def create_topic(
        self,
        chat: Chat,
        name: str,
        *,
        by: User,
        icon_color: int = 7322096,
        icon_custom_emoji_id: str | None = None,
    ) -> Topic:
        """A forum topic, opened by its forum_topic_created service message."""
        topic = Topic(chat.next_message_id, name, icon_color, icon_custom_emoji_id)
        chat.topics[topic.thread_id] = topic
        created: dict[str, Any] = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        self.post(chat, by, {"forum_topic_created": created}, thread_id=topic.thread_id)
        return topic

    # --- drafts -----------------------------------------------------------------------------

    def clear_drafts(self, bot_id: int, chat_id: int) -> None:
        bot = self.bot_by_id(bot_id)
        if bot is not None:
            for key in [k for k in bot.drafts if k[0] == chat_id]:
                del bot.drafts[key]

    def live_drafts(self, bot: BotAccount) -> list[Draft]:
        horizon = self.clock.now() - DRAFT_TTL_SECONDS
        for key in [k for k, d in bot.drafts.items() if d.updated_at < horizon]:
            del bot.drafts[key]
        return list(bot.drafts.values())

    # --- files ------------------------------------------------------------------------------

    def store_file(
        self, data: bytes, *, kind: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        n = next(self._file_ids)
        unique = hashlib.sha256(data).hexdigest()[:16]
        extension = (
            (file_name or "").rpartition(".")[2] if file_name and "." in file_name else "bin"
        )
        stored = StoredFile(
            file_id=f"{kind[:2].upper()}{n:06d}{secrets.token_hex(8)}",
            file_unique_id=f"U{unique}",
            path=f"{kind}s/file_{n}.{extension}",
            data=data,
            mime_type=mime_type,
            file_name=file_name,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.path] = stored
        return stored

    def checkout_answered(self, query_id: str) -> None:
        waiter = self.checkout_waiters.pop(query_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- ids --------------------------------------------------------------------------------

    def new_query_id(self) -> str:
        return f"{next(self._query_ids)}{secrets.randbelow(10**9):09d}"


def _chat_word(chat: Chat) -> str:
    return {"group": "group", "supergroup": "supergroup", "channel": "channel"}.get(
        chat.type, "group"
    )
