"""What each vendor's wire format must provide to the server, and shared framing helpers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

from aiohttp import web

from .script import Reply, Vendor, VendorRequest

JSON: TypeAlias = dict[str, Any]


@dataclass(slots=True)
class StreamPlan:
    """A streamed answer: frames before the first token, one group per delta, closing frames."""

    head: list[bytes] = field(default_factory=list)
    pieces: list[bytes] = field(default_factory=list)
    tail: list[bytes] = field(default_factory=list)


class Wire(Protocol):
    """One vendor's HTTP API: how to read a request and write answers and errors."""

    vendor: Vendor
    stream_content_type: str

    def authorized(self, request: web.Request, api_key: str) -> bool:
        """Whether the request carries `api_key` where this vendor expects it."""
        ...

    async def read(self, request: web.Request) -> VendorRequest:
        """The neutral view of an incoming request."""
        ...

    def body(self, reply: Reply, request: VendorRequest) -> JSON:
        """The non-streamed success body."""
        ...

    def stream(self, reply: Reply, request: VendorRequest) -> StreamPlan:
        """The streamed success frames."""
        ...

    def error(self, status: int, message: str | None, retry_after: float | None) -> JSON:
        """The vendor's error body for an HTTP error status."""
        ...

    def stream_error(self, status: int, message: str | None) -> bytes:
        """The frame this vendor sends when an open stream fails."""
        ...


def sse(data: object, *, event: str | None = None, newline: str = "\n") -> bytes:
    """One server-sent event with a JSON (or literal string) payload."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    lines = ([f"event: {event}"] if event else []) + [f"data: {payload}"]
    return (newline.join(lines) + newline + newline).encode()


def new_id(prefix: str) -> str:
    """A vendor-looking random identifier."""
    return prefix + uuid.uuid4().hex[:24]


def halves(text: str) -> list[str]:
    """`text` in two non-empty parts when possible, to exercise incremental JSON."""
    middle = len(text) // 2
    return [part for part in (text[:middle], text[middle:]) if part]


def bearer_token(request: web.Request) -> str:
    """The token of an `Authorization: Bearer` header, or empty."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else ""
