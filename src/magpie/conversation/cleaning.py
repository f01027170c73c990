"""Untrusted text made safe to store and show to a model."""

from __future__ import annotations

import re

# Invisible characters used to smuggle instructions or spoof text: Unicode tags, bidi
# overrides and isolates, zero-width space, word joiner and invisible operators, BOM.
# Zero-width (non-)joiners stay: scripts and emoji sequences need them.
INVISIBLE = re.compile(
    "[\U000e0000-\U000e007f\u202a-\u202e\u2066-\u2069\u200b\u2060-\u2064\ufeff\u180e]"
)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0/C1 controls but \t and \n
MAX_CHARS = 8000


def clean_text(text: str) -> str:
    """Drop invisible control characters; keep everything a person can see."""
    return INVISIBLE.sub("", text)


def clean_reply(text: str) -> str:
    """Model output as Telegram will accept it: no control or invisible characters.

    Telegram drops control characters itself; a reply made only of them would be refused
    ("text must be non-empty") and the person would get nothing.
    """
    return CONTROL.sub("", clean_text(text))


def clip(text: str, limit: int = MAX_CHARS) -> str:
    """At most `limit` characters, so one huge message cannot crowd out the conversation."""
    return text if len(text) <= limit else text[:limit] + " …[cut]"
