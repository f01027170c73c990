"""Anthropic Messages on the wire: `POST /v1/messages`, named SSE events, `input_json_delta`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .script import (
    AnyToolCall,
    Reply,
    Role,
    ToolCall,
    Vendor,
    VendorRequest,
    call_entry,
    usage_of,
)
from .wire import JSON, StreamPlan, bearer_token, halves, new_id, sse

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: (
        "rate_limit_error",
        "This request would exceed the rate limit for your organization. Please try again later.",
    ),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}

_ROLES: dict[str, Role] = {"assistant": "assistant", "system": "system"}


def _text(content: object) -> str:
    """The text of a string or a list of text blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if b.get("type") == "text")
    return ""


def _message_entries(role: Role, content: str | list[dict[str, Any]]) -> list[tuple[Role, str]]:
    """One message's blocks as neutral entries, adjacent text blocks merged."""
    if isinstance(content, str):
        return [(role, content)]
    entries: list[tuple[Role, str]] = []
    texts: list[str] = []
    for block in [*content, {"type": "end"}]:
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text", ""))
            continue
        if texts:
            entries.append((role, "\n".join(texts)))
            texts = []
        if kind == "tool_use":
            entries.append(call_entry(block.get("name"), block.get("input")))
        elif kind == "tool_result":
            entries.append(("tool", _text(block.get("content"))))
    return entries


def _messages(raw: JSON) -> list[tuple[Role, str]]:
    """The system prompt and the conversation as neutral entries."""
    entries: list[tuple[Role, str]] = []
    if system := _text(raw.get("system")):
        entries.append(("system", system))
    for message in raw.get("messages") or []:
        role = _ROLES.get(message.get("role", ""), "user")
        entries += _message_entries(role, message.get("content") or "")
    return entries


class AnthropicWire:
    """Speaks the Anthropic Messages API."""

    vendor: Vendor = "anthropic"
    stream_content_type: str = "text/event-stream; charset=utf-8"

    def authorized(self, request: web.Request, api_key: str) -> bool:
        """Anthropic takes the key in `x-api-key` (or a bearer auth token)."""
        return api_key in (request.headers.get("x-api-key"), bearer_token(request))

    async def read(self, request: web.Request) -> VendorRequest:
        """Parse a messages request."""
        raw: JSON = await request.json()
        return VendorRequest(
            vendor=self.vendor,
            model=str(raw.get("model", "")),
            messages=_messages(raw),
            tools=[str(t.get("name")) for t in raw.get("tools") or []],
            stream=bool(raw.get("stream")),
            raw=raw,
        )

    def body(self, reply: Reply, request: VendorRequest) -> JSON:
        """A `message` object; malformed tool input is passed through as the raw string."""
        content: list[JSON] = [{"type": "text", "text": reply.text}] if reply.text else []
        for call in reply.tool_calls:
            tool_input = call.arguments if isinstance(call, ToolCall) else call.arguments_json
            content.append(_tool_block(call) | {"input": tool_input})
        return _message(reply, request, content) | {
            "stop_reason": _stop_reason(reply),
            "usage": _usage(*usage_of(reply, request)),
        }

    def stream(self, reply: Reply, request: VendorRequest) -> StreamPlan:
        """message_start, content blocks with deltas, message_delta, message_stop."""
        input_tokens, output_tokens = usage_of(reply, request)
        start = _message(reply, request, []) | {
            "stop_reason": None,
            "usage": _usage(input_tokens, 1),
        }
        plan = StreamPlan(
            head=[
                _event("message_start", {"message": start}),
                _event("ping", {}),
            ]
        )
        texts = reply.text_chunks()
        for number, piece in enumerate(texts):
            delta = _event(
                "content_block_delta",
                {"index": 0, "delta": {"type": "text_delta", "text": piece}},
            )
            opening = _block_start(0, {"type": "text", "text": ""}) if number == 0 else b""
            last = number == len(texts) - 1
            closing = _event("content_block_stop", {"index": 0}) if last else b""
            plan.pieces.append(opening + delta + closing)
        first_tool_index = 1 if texts else 0
        for index, call in enumerate(reply.tool_calls, start=first_tool_index):
            frames = [_block_start(index, _tool_block(call) | {"input": {}})]
            frames += [
                _event(
                    "content_block_delta",
                    {"index": index, "delta": {"type": "input_json_delta", "partial_json": part}},
                )
                for part in halves(call.arguments_json)
            ]
            frames.append(_event("content_block_stop", {"index": index}))
            plan.pieces.append(b"".join(frames))
        final_usage = _usage(input_tokens, output_tokens)
        message_delta = {
            "delta": {"stop_reason": _stop_reason(reply), "stop_sequence": None},
            "usage": final_usage,
        }
        plan.tail = [_event("message_delta", message_delta), _event("message_stop", {})]
        return plan

    def error(self, status: int, message: str | None, retry_after: float | None) -> JSON:
        """`{"type": "error", "error": {type, message}, "request_id"}`."""
        kind, default = _ERRORS.get(status, ("api_error", "Internal server error"))
        return {
            "type": "error",
            "error": {"type": kind, "message": message or default},
            "request_id": new_id("req_"),
        }

    def stream_error(self, status: int, message: str | None) -> bytes:
        """Anthropic reports a failure inside an open stream as an `error` event."""
        return _event("error", self.error(status, message, None))


def _event(name: str, payload: JSON) -> bytes:
    """A named Anthropic event whose data repeats its name as `type`."""
    return sse({"type": name} | payload, event=name)


def _block_start(index: int, block: JSON) -> bytes:
    """A `content_block_start` event."""
    return _event("content_block_start", {"index": index, "content_block": block})


def _tool_block(call: AnyToolCall) -> JSON:
    """A `tool_use` block without its input."""
    return {"type": "tool_use", "id": new_id("toolu_"), "name": call.name}


def _message(reply: Reply, request: VendorRequest, content: list[JSON]) -> JSON:
    """The message envelope."""
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": content,
        "stop_sequence": None,
    }


def _stop_reason(reply: Reply) -> str:
    """Anthropic's name for why the answer ended."""
    if reply.truncated:
        return "max_tokens"
    return "tool_use" if reply.tool_calls else "end_turn"


def _usage(input_tokens: int, output_tokens: int) -> JSON:
    """A `usage` object."""
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def models_list(model_ids: list[str]) -> JSON:
    """The `GET /v1/models` page, Anthropic flavour."""
    data = [
        {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
        for m in model_ids
    ]
    return {"data": data, "has_more": False, "first_id": model_ids[0], "last_id": model_ids[-1]}
