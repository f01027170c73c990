"""A local Telegram Bot API server that real clients cannot tell from Telegram."""

from magpie.sandbox.bots import BotAccount
from magpie.sandbox.clock import ManualClock, SystemClock
from magpie.sandbox.faults import Fault
from magpie.sandbox.flood import FloodPolicy
from magpie.sandbox.model import Chat, Message, Topic, User
from magpie.sandbox.people import ActionRefused, PaymentOutcome
from magpie.sandbox.sandbox import BotSpec, Sandbox, new_token
from magpie.sandbox.webhook import RetryPolicy

__all__ = [
    "ActionRefused",
    "BotAccount",
    "BotSpec",
    "Chat",
    "Fault",
    "FloodPolicy",
    "ManualClock",
    "Message",
    "PaymentOutcome",
    "RetryPolicy",
    "Sandbox",
    "SystemClock",
    "Topic",
    "User",
    "new_token",
]
