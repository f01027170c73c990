"""The question a paused turn asks: which tool, with what, in words a person can check."""

from __future__ import annotations

import json
import re

from magpie.conversation.cleaning import clean_reply
from magpie.conversation.types import Parked
from magpie.texts import Texts

MAX_VALUE_CHARS = 300
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark (CommonMark)


def escape_markdown(text: str) -> str:
    """Shown as written: the model's arguments must not turn into links or formatting."""
    return _PUNCTUATION.sub(r"\\\1", text)


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(clean_reply(text).split())  # one line: it must not pass for more question
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS] + "…"
    return escape_markdown(text)


def question_text(texts: Texts, user: str, parked: Parked) -> str:
    """Markdown: the question, then each argument the tool would get."""
    tool = f"`{parked.tool.replace('`', '')}`"
    values = list(parked.arguments.items())
    if not values:
        return texts.ask_tool_plain.format(user=escape_markdown(user), tool=tool)
    if len(values) == 1:
        head = texts.ask_tool_one.format(user=escape_markdown(user), tool=tool)
        return f"{head}\n> {_shown(values[0][1])}"
    head = texts.ask_tool_many.format(user=escape_markdown(user), tool=tool)
    lines = [f"• {_shown(name)}: {_shown(value)}" for name, value in values]
    return "\n".join([head, *lines])
