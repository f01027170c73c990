"""Telegram-facing presentation: formatting and splitting of outgoing messages."""
