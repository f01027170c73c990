"""Vendor-neutral script: what the next model calls return, and what the fake was asked."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal, TypeAlias

Vendor: TypeAlias = Literal["openai", "anthropic", "gemini"]
Role: TypeAlias = Literal["system", "user", "assistant", "tool_call", "tool"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The model calls tool `name` with JSON `arguments`."""

    name: str
    arguments: Mapping[str, object] = field(default_factory=dict)

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON text the vendor sends."""
        return json.dumps(self.arguments, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class MalformedToolCall:
    """The model calls tool `name` with arguments that are not valid JSON."""

    name: str
    arguments_json: str = '{"x": '


AnyToolCall: TypeAlias = ToolCall | MalformedToolCall


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: text split into `chunks` stream deltas, then any tool calls."""

    text: str = ""
    _: KW_ONLY
    chunks: int = 1
    tool_calls: Sequence[AnyToolCall] = ()
    first_token_delay: float = 0.0
    chunk_delay: float = 0.0
    input_tokens: int | None = None
    output_tokens: int | None = None
    truncated: bool = False

    def text_chunks(self) -> list[str]:
        """The text cut into at most `chunks` non-empty pieces of near-equal length."""
        count = max(1, min(self.chunks, len(self.text)))
        size = len(self.text)
        pieces = [self.text[i * size // count : (i + 1) * size // count] for i in range(count)]
        return [piece for piece in pieces if piece]


@dataclass(frozen=True, slots=True)
class Fail:
    """An error answer with the vendor's real status, JSON body and `Retry-After` header."""

    status: int = 500
    _: KW_ONLY
    retry_after: float | None = None
    message: str | None = None
    in_stream: bool = False


@dataclass(frozen=True, slots=True)
class Hang:
    """Send nothing for `seconds` or until released, then answer `then` or the echo."""

    seconds: float = 60.0
    _: KW_ONLY
    then: Reply | None = None
    released: asyncio.Event = field(default_factory=asyncio.Event, compare=False, repr=False)

    def release(self) -> None:
        """End this hang now; released before it starts, it does not hang at all."""
        self.released.set()


@dataclass(frozen=True, slots=True)
class CutStream:
    """Stream `after_chunks` deltas of `text`, then drop the connection."""

    after_chunks: int = 1
    _: KW_ONLY
    text: str = "This answer breaks off in the middle of"
    chunks: int = 4

    def as_reply(self) -> Reply:
        """The reply whose stream gets cut."""
        return Reply(self.text, chunks=self.chunks)


Step: TypeAlias = Reply | ToolCall | MalformedToolCall | Fail | Hang | CutStream


@dataclass(frozen=True, slots=True)
class VendorRequest:
    """One request as the fake received it, in vendor-neutral form."""

    vendor: Vendor
    model: str
    messages: list[tuple[Role, str]]
    tools: list[str]
    stream: bool
    raw: dict[str, Any]

    @property
    def last_user_text(self) -> str:
        """The text of the latest user message, or empty."""
        return next((text for role, text in reversed(self.messages) if role == "user"), "")

    @property
    def system_text(self) -> str:
        """All system/developer instructions joined by newlines."""
        return "\n".join(text for role, text in self.messages if role == "system")

    @property
    def prompt_text(self) -> str:
        """Every message's text joined by newlines, for `in` assertions."""
        return "\n".join(text for _, text in self.messages)


Responder: TypeAlias = Callable[[VendorRequest], Step | Awaitable[Step]]


def call_entry(name: object, arguments: object) -> tuple[Role, str]:
    """A tool call as the neutral entry `("tool_call", 'name({"a": 1})')`, alike for all vendors."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return "tool_call", f"{name}({arguments})"
    return "tool_call", f"{name}({json.dumps(arguments, ensure_ascii=False)})"


def as_reply(step: Reply | ToolCall | MalformedToolCall) -> Reply:
    """A bare tool call is shorthand for a reply that only calls it."""
    return step if isinstance(step, Reply) else Reply(tool_calls=(step,))


def echo(request: VendorRequest) -> Reply:
    """The default answer when nothing is scripted."""
    return Reply(f"echo: {request.last_user_text}")


def estimate_tokens(text: str) -> int:
    """A stable stand-in for a tokenizer: about four characters a token."""
    return max(1, math.ceil(len(text) / 4))


def usage_of(reply: Reply, request: VendorRequest) -> tuple[int, int]:
    """Input and output token counts for `reply`, scripted or estimated."""
    spoken = reply.text + "".join(call.name + call.arguments_json for call in reply.tool_calls)
    input_tokens = reply.input_tokens
    if input_tokens is None:
        input_tokens = estimate_tokens(request.prompt_text) + 3 * len(request.tools)
    output_tokens = reply.output_tokens
    if output_tokens is None:
        output_tokens = estimate_tokens(spoken)
    return input_tokens, output_tokens
