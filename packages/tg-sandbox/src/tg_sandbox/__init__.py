"""A local Telegram Bot API server that real clients cannot tell from Telegram."""

from tg_sandbox.bots import BotAccount
from tg_sandbox.clock import ManualClock, SystemClock
from tg_sandbox.control import BotSpec, ControlSurface, new_token
from tg_sandbox.faults import Fault
from tg_sandbox.flood import FloodPolicy
from tg_sandbox.model import Chat, Message, Topic, User
from tg_sandbox.people import ActionRefused, PaymentOutcome
from tg_sandbox.sandbox import Sandbox
from tg_sandbox.webhook import RetryPolicy

__all__ = [
    "ActionRefused",
    "BotAccount",
    "BotSpec",
    "Chat",
    "ControlSurface",
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
