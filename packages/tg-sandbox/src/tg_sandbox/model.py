"""The sandbox's world: people, bots, chats, members, messages, files, payments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ChatType = Literal["private", "group", "supergroup", "channel"]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]

ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
)


@dataclass(slots=True)
class User:
    """A Telegram account: a person or a bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    is_premium: bool = False
    blocked_bots: set[int] = field(default_factory=set)
    started_bots: set[int] = field(default_factory=set)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass(slots=True)
class Member:
    """Someone's place in a group: status and, for admins, rights."""

    user_id: int
    status: MemberStatus = "member"
    rights: frozenset[str] = frozenset()
    custom_title: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.status in ("creator", "administrator")

    @property
    def is_present(self) -> bool:
        return self.status in ("creator", "administrator", "member", "restricted")


@dataclass(slots=True)
class Topic:
    """A forum topic; its id is the id of the service message that created it."""

    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False


@dataclass(slots=True)
class StoredFile:
    """Bytes the sandbox keeps, addressed by file_id and by a relative file_path."""

    file_id: str
    file_unique_id: str
    path: str
    data: bytes
    mime_type: str | None = None
    file_name: str | None = None


@dataclass(slots=True)
class Message:
    """A message in a chat; `content` holds the Bot API fields of what it carries."""

    chat: Chat
    message_id: int
    sender_id: int | None
    date: int
    content: dict[str, Any]
    thread_id: int | None = None
    reply_to: int | None = None
    reply_markup: dict[str, Any] | None = None
    edit_date: int | None = None
    forward_origin: dict[str, Any] | None = None
    via_bot_id: int | None = None
    is_topic_message: bool = False

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def text(self) -> str | None:
        value = self.content.get("text")
        return value if isinstance(value, str) else None


@dataclass(slots=True)
class Chat:
    """A private chat (one per bot and user), a group, supergroup, forum or channel."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    next_message_id: int = 1
    last_bot_sender: int | None = None
    owner_bot_id: int | None = None  # set for private chats: the bot on the other side

    def allocate_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def member(self, user_id: int) -> Member | None:
        member = self.members.get(user_id)
        return member if member is not None and member.is_present else None


@dataclass(slots=True)
class Invoice:
    """An invoice message waiting to be paid, with what the bot asked for."""

    chat_id: int
    message_id: int | None
    title: str
    description: str
    payload: str
    currency: str
    total_amount: int


@dataclass(slots=True)
class PendingCheckout:
    """A pre-checkout query the bot must answer within 10 seconds."""

    query_id: str
    user_id: int
    invoice: Invoice
    created_at: float
    answer: bool | None = None
    error_message: str | None = None


@dataclass(slots=True)
class Charge:
    """A completed Stars payment, refundable once."""

    charge_id: str
    bot_id: int
    user_id: int
    amount: int
    payload: str
    date: int
    refunded: bool = False
    refunded_at: int | None = None


@dataclass(slots=True)
class Draft:
    """A streamed draft (sendMessageDraft): ephemeral, private chats only."""

    chat_id: int
    draft_id: int
    text: str
    entities: list[dict[str, Any]]
    thread_id: int | None
    can_stop: bool
    keep_on_stop: bool
    updated_at: float
    updates: int = 1
