"""The web chat page: a Telegram-like client in the browser on top of /sandbox/api."""

from tg_sandbox.webchat.routes import add_webchat_routes

__all__ = ["add_webchat_routes"]
