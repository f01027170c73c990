"""OpenAI Chat Completions on the wire: `POST /v1/chat/completions`, SSE chunks, `data: [DONE]`."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .script import Reply, Role, Vendor, VendorRequest, call_entry, usage_of
from .wire import JSON, StreamPlan, bearer_token, halves, new_id, sse

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests per min (RPM). Please try again later.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def _text(content: object) -> str:
    """The text of a message `content` that is a string or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _messages(raw: list[dict[str, Any]]) -> list[tuple[Role, str]]:
    """Chat messages as neutral (role, text) entries."""
    entries: list[tuple[Role, str]] = []
    for message in raw:
        role, text = message.get("role"), _text(message.get("content"))
        if role in ("system", "developer"):
            entries.append(("system", text))
        elif role == "tool":
            entries.append(("tool", text))
        elif role == "assistant":
            if text:
                entries.append(("assistant", text))
            for call in message.get("tool_calls") or []:
                entries.append(call_entry(call["function"]["name"], call["function"]["arguments"]))
        else:
            entries.append(("user", text))
    return entries


class OpenAIWire:
    """Speaks OpenAI Chat Completions."""

    vendor: Vendor = "openai"
    stream_content_type: str = "text/event-stream; charset=utf-8"

    def authorized(self, request: web.Request, api_key: str) -> bool:
        """OpenAI takes the key as a bearer token."""
        return bearer_token(request) == api_key

    async def read(self, request: web.Request) -> VendorRequest:
        """Parse a chat completion request."""
        raw: JSON = await request.json()
        tools = [t["function"]["name"] for t in raw.get("tools") or [] if "function" in t]
        return VendorRequest(
            vendor=self.vendor,
            model=str(raw.get("model", "")),
            messages=_messages(raw.get("messages") or []),
            tools=tools,
            stream=bool(raw.get("stream")),
            raw=raw,
        )

    def body(self, reply: Reply, request: VendorRequest) -> JSON:
        """A `chat.completion` object."""
        calls = [
            {
                "id": new_id("call_"),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_json},
            }
            for call in reply.tool_calls
        ]
        message: JSON = {"role": "assistant", "content": reply.text or None, "refusal": None}
        if calls:
            message["tool_calls"] = calls
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": _finish_reason(reply),
        }
        return _envelope(request, "chat.completion") | {
            "choices": [choice],
            "usage": _usage(reply, request),
        }

    def stream(self, reply: Reply, request: VendorRequest) -> StreamPlan:
        """`chat.completion.chunk` events, a usage chunk when asked, then `[DONE]`."""
        base = _envelope(request, "chat.completion.chunk")
        with_usage = bool((request.raw.get("stream_options") or {}).get("include_usage"))
        if with_usage:
            base["usage"] = None

        def chunk(delta: JSON, finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return sse(base | {"choices": [choice]})

        plan = StreamPlan(head=[chunk({"role": "assistant", "content": "", "refusal": None})])
        plan.pieces = [chunk({"content": piece}) for piece in reply.text_chunks()]
        for index, call in enumerate(reply.tool_calls):
            opening = {
                "index": index,
                "id": new_id("call_"),
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            frames = [chunk({"tool_calls": [opening]})]
            frames += [
                chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
                for part in halves(call.arguments_json)
            ]
            plan.pieces.append(b"".join(frames))
        plan.tail = [chunk({}, _finish_reason(reply))]
        if with_usage:
            plan.tail.append(sse(base | {"choices": [], "usage": _usage(reply, request)}))
        plan.tail.append(sse("[DONE]"))
        return plan

    def error(self, status: int, message: str | None, retry_after: float | None) -> JSON:
        """`{"error": {message, type, param, code}}`."""
        kind, code, default = _ERRORS.get(status) or _ERRORS[500 if status >= 500 else 400]
        return {"error": {"message": message or default, "type": kind, "param": None, "code": code}}

    def stream_error(self, status: int, message: str | None) -> bytes:
        """OpenAI reports a failure inside an open stream as a `data: {"error": ...}` event."""
        return sse(self.error(status, message, None))


def _envelope(request: VendorRequest, kind: str) -> JSON:
    """Fields shared by completions and chunks."""
    return {
        "id": new_id("chatcmpl-"),
        "object": kind,
        "created": int(time.time()),
        "model": request.model,
        "system_fingerprint": "fp_magpie_fake",
    }


def _finish_reason(reply: Reply) -> str:
    """OpenAI's name for why the answer ended."""
    if reply.truncated:
        return "length"
    return "tool_calls" if reply.tool_calls else "stop"


def _usage(reply: Reply, request: VendorRequest) -> JSON:
    """A `CompletionUsage` object."""
    prompt, completion = usage_of(reply, request)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def models_list(model_ids: list[str]) -> JSON:
    """The `GET /v1/models` page."""
    data = [{"id": m, "object": "model", "created": 0, "owned_by": "magpie"} for m in model_ids]
    return {"object": "list", "data": data}
