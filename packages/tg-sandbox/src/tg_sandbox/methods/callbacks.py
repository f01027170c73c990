"""Answering inline-button presses."""

from __future__ import annotations

from typing import Any

from tg_sandbox.errors import bad_request
from tg_sandbox.methods.call import Call

QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CALLBACK_ANSWER_SECONDS = 15 * 60


async def answer_callback_query(call: Call) -> bool:
    world = call.world
    query_id = call.params.text("callback_query_id")
    known = world.callback_queries.get(query_id)
    if known is None or known[0] != call.bot.id or query_id in world.callback_answers:
        raise bad_request(QUERY_TOO_OLD)
    if world.clock.now() - known[1] > CALLBACK_ANSWER_SECONDS:
        raise bad_request(QUERY_TOO_OLD)
    text = call.params.get("text") or ""
    if len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    answer: dict[str, Any] = {"show_alert": call.params.flag("show_alert")}
    if text:
        answer["text"] = text
    if call.params.get("url"):
        answer["url"] = call.params.get("url")
    world.callback_answers[query_id] = answer
    return True
