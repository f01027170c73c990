"""Checks on what the model says before it reaches a chat."""

from __future__ import annotations

import functools
import re

WINDOW = 60  # characters of the instructions that may not appear verbatim in a reply


@functools.lru_cache(maxsize=64)  # the instructions: the same few personas, every call
def _squashed_instructions(text: str) -> str:
    return _squash(text)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def reveals_instructions(reply: str, instructions: str) -> bool:
    """True when the reply quotes a long stretch of the system prompt (a prompt leak)."""
    secret, said = _squashed_instructions(instructions), _squash(reply)
    if len(secret) < WINDOW:
        return bool(secret) and secret in said
    return any(
        secret[start : start + WINDOW] in said
        for start in range(0, len(secret) - WINDOW + 1, WINDOW // 2)
    )
