"""Bot API methods by name: each is an async function of one `Call`."""

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
HANDLERS: dict[str, Handler] = {}
CANONICAL: dict[str, str] = {}


def api(name: str) -> Callable[[Handler], Handler]:
    """Register a handler under a Bot API method name (matched case-insensitively)."""

    def register(handler: Handler) -> Handler:
        HANDLERS[name.lower()] = handler
        CANONICAL[name.lower()] = name
        return handler

    return register
