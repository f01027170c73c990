"""Magpie: an AI assistant that lives in Telegram chats."""
