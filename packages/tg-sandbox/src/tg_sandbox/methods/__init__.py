"""Bot API method handlers; importing this package registers them all."""

from tg_sandbox.methods import (
    account,
    callbacks,
    chats,
    media,
    messages,
    payments,
    streaming,
    updating,
)

__all__ = [
    "account",
    "callbacks",
    "chats",
    "media",
    "messages",
    "payments",
    "streaming",
    "updating",
]
