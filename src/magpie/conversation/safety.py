"""Checks on what the model says before it reaches a chat."""

from __future__ import annotations

import re

WINDOW = 60  # characters of the instructions that may not appear verbatim in a reply


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def reveals_instructions(reply: str, instructions: str) -> bool:
    """True when the reply quotes a long stretch of the system prompt (a prompt leak)."""
    secret, said = _squash(instructions), _squash(reply)
    if len(secret) < WINDOW:
        return bool(secret) and secret in said
    return any(
        secret[start : start + WINDOW] in said
        for start in range(0, len(secret) - WINDOW + 1, WINDOW // 2)
    )
