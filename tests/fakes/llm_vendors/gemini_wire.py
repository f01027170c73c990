"""Gemini API on the wire: `/v1beta/models/{model}:generateContent` and `:streamGenerateContent`.

Streams are SSE (`?alt=sse`) with CRLF line ends, like the real API.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .script import (
    MalformedToolCall,
    Reply,
    Role,
    ToolCall,
    Vendor,
    VendorRequest,
    call_entry,
    usage_of,
)
from .wire import JSON, StreamPlan, new_id, sse

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "API key not valid. Please pass a valid API key."),
    403: ("PERMISSION_DENIED", "The caller does not have permission."),
    404: ("NOT_FOUND", "The requested model was not found."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred. Please retry."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "The request timed out. Please try again."),
}


def _field(raw: JSON, camel: str, snake: str) -> Any:
    """A field the SDK may spell in camelCase or snake_case."""
    return raw.get(camel, raw.get(snake))


def _tool_result_text(response: object) -> str:
    """A function response as text: a lone string value unwrapped, anything else as JSON."""
    if isinstance(response, dict) and len(response) == 1:
        (value,) = response.values()
        if isinstance(value, str):
            return value
    return json.dumps(response, ensure_ascii=False)


def _part_entries(role: Role, parts: list[JSON]) -> list[tuple[Role, str]]:
    """One content's parts as neutral entries, adjacent text parts merged."""
    entries: list[tuple[Role, str]] = []
    texts: list[str] = []
    for part in [*parts, {}]:
        if "text" in part:
            if not part.get("thought"):
                texts.append(part["text"])
            continue
        if texts:
            entries.append((role, "\n".join(texts)))
            texts = []
        if call := _field(part, "functionCall", "function_call"):
            entries.append(call_entry(call.get("name"), call.get("args") or {}))
        elif result := _field(part, "functionResponse", "function_response"):
            entries.append(("tool", _tool_result_text(result.get("response"))))
    return entries


def _messages(raw: JSON) -> list[tuple[Role, str]]:
    """The system instruction and the contents as neutral entries."""
    entries: list[tuple[Role, str]] = []
    if system := _field(raw, "systemInstruction", "system_instruction"):
        entries += _part_entries("system", system.get("parts") or [])
    for content in raw.get("contents") or []:
        role: Role = "assistant" if content.get("role") == "model" else "user"
        entries += _part_entries(role, content.get("parts") or [])
    return entries


def _tool_names(raw: JSON) -> list[str]:
    """Names of the declared functions."""
    return [
        str(declaration.get("name"))
        for tool in raw.get("tools") or []
        for declaration in _field(tool, "functionDeclarations", "function_declarations") or []
    ]


class GeminiWire:
    """Speaks the Gemini API (generativelanguage.googleapis.com)."""

    vendor: Vendor = "gemini"
    stream_content_type: str = "text/event-stream"

    def authorized(self, request: web.Request, api_key: str) -> bool:
        """Gemini takes the key in `x-goog-api-key` or the `key` query parameter."""
        return api_key in (request.headers.get("x-goog-api-key"), request.query.get("key"))

    async def read(self, request: web.Request) -> VendorRequest:
        """Parse a generateContent request; the model and streaming come from the path."""
        raw: JSON = await request.json()
        model, _, action = request.match_info["model_action"].rpartition(":")
        if action not in ("generateContent", "streamGenerateContent"):
            raise web.HTTPNotFound(text=f"The fake does not serve :{action}.")
        return VendorRequest(
            vendor=self.vendor,
            model=model,
            messages=_messages(raw),
            tools=_tool_names(raw),
            stream=action == "streamGenerateContent",
            raw=raw,
        )

    def body(self, reply: Reply, request: VendorRequest) -> JSON:
        """A `GenerateContentResponse`."""
        parts: list[JSON] = [{"text": reply.text}] if reply.text else []
        parts += [_call_part(call) for call in reply.tool_calls if isinstance(call, ToolCall)]
        candidate = _finish(reply) | ({"content": _content(parts)} if parts else {})
        return _response(request, candidate, _usage(*usage_of(reply, request)))

    def stream(self, reply: Reply, request: VendorRequest) -> StreamPlan:
        """One SSE event per delta and per function call, then one with the finish reason."""
        input_tokens, output_tokens = usage_of(reply, request)
        prompt_usage = {"promptTokenCount": input_tokens, "totalTokenCount": input_tokens}
        response_id = new_id("")

        def event(candidate: JSON, usage: JSON) -> bytes:
            return sse(_response(request, candidate, usage, response_id), newline="\r\n")

        parts = [{"text": piece} for piece in reply.text_chunks()]
        parts += [_call_part(call) for call in reply.tool_calls if isinstance(call, ToolCall)]
        return StreamPlan(
            pieces=[event({"content": _content([part])}, prompt_usage) for part in parts],
            tail=[event(_finish(reply), _usage(input_tokens, output_tokens))],
        )

    def error(self, status: int, message: str | None, retry_after: float | None) -> JSON:
        """`{"error": {code, message, status, details}}` with a `RetryInfo` when asked to wait."""
        kind, default = _ERRORS.get(status, ("INTERNAL", "An internal error has occurred."))
        error: JSON = {"code": status, "message": message or default, "status": kind}
        if retry_after is not None:
            retry_info = {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{retry_after:g}s",
            }
            error["details"] = [retry_info]
        return {"error": error}

    def stream_error(self, status: int, message: str | None) -> bytes:
        """Gemini reports a failure inside an open stream as a `data: {"error": ...}` event."""
        return sse(self.error(status, message, None), newline="\r\n")


def _call_part(call: ToolCall) -> JSON:
    """A `functionCall` part."""
    return {"functionCall": {"name": call.name, "args": dict(call.arguments)}}


def _content(parts: list[JSON]) -> JSON:
    """A model turn."""
    return {"role": "model", "parts": parts}


def _finish(reply: Reply) -> JSON:
    """The finish reason; a malformed call is reported the way Gemini does, not as a part."""
    malformed = [c for c in reply.tool_calls if isinstance(c, MalformedToolCall)]
    if malformed:
        call = malformed[0]
        message = f"Malformed function call: print(default_api.{call.name}({call.arguments_json}"
        return {"finishReason": "MALFORMED_FUNCTION_CALL", "finishMessage": message}
    return {"finishReason": "MAX_TOKENS" if reply.truncated else "STOP"}


def _response(request: VendorRequest, candidate: JSON, usage: JSON, response_id: str = "") -> JSON:
    """A `GenerateContentResponse` envelope."""
    return {
        "candidates": [candidate | {"index": 0}],
        "usageMetadata": usage,
        "modelVersion": request.model,
        "responseId": response_id or new_id(""),
    }


def _usage(input_tokens: int, output_tokens: int) -> JSON:
    """A `usageMetadata` object."""
    return {
        "promptTokenCount": input_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": input_tokens + output_tokens,
    }


def models_list(model_ids: list[str]) -> JSON:
    """The `GET /v1beta/models` page."""
    methods = ["generateContent", "streamGenerateContent", "countTokens"]
    models = [
        {"name": f"models/{m}", "displayName": m, "supportedGenerationMethods": methods}
        for m in model_ids
    ]
    return {"models": models}
