"""A bot account in the sandbox: identity, settings, update queue and webhook."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from tg_sandbox.model import Draft, User
from tg_sandbox.updates import UpdateQueue


@dataclass(slots=True)
class WebhookConfig:
    """What setWebhook stored, plus what delivery has seen."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(slots=True)
class BotAccount:
    """Everything the sandbox knows about one bot token."""

    token: str
    user: User
    queue: UpdateQueue
    privacy_mode: bool = True
    can_join_groups: bool = True
    has_topics_enabled: bool = False
    allowed_updates: list[str] | None = None
    webhook: WebhookConfig | None = None
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    profile: dict[str, str] = field(default_factory=dict)  # name/description/short_description
    drafts: dict[tuple[int, int], Draft] = field(default_factory=dict)
    held_poll: asyncio.Future[None] | None = None
    last_poll: tuple[int, float] = (0, 0.0)  # offset, time: for Telegram's anti-spin rule
    closed_at: float | None = None
    logged_out: bool = False

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username or ""

    def me(self) -> dict[str, Any]:
        """getMe's answer."""
        me: dict[str, Any] = {
            "id": self.user.id,
            "is_bot": True,
            "first_name": self.user.first_name,
        }
        if self.user.username:
            me["username"] = self.user.username
        me |= {
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
            "has_topics_enabled": self.has_topics_enabled,
        }
        return me
