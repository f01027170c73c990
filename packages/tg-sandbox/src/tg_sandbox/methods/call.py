"""What a Bot API method handler gets (one `Call`) and may return (`Answer`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tg_sandbox.bots import BotAccount
from tg_sandbox.params import Params
from tg_sandbox.world import World


class WebhookControl(Protocol):
    """Starts and stops webhook delivery for a bot."""

    def restart(self, bot: BotAccount) -> None: ...


@dataclass(slots=True)
class Call:
    """One Bot API call: who makes it, with what, in which world."""

    world: World
    bot: BotAccount
    params: Params
    method: str
    webhooks: WebhookControl


@dataclass(frozen=True, slots=True)
class Answer:
    """A result that also carries Telegram's `description` (setWebhook and friends)."""

    result: Any
    description: str


Handler = Callable[[Call], Awaitable[Any]]
