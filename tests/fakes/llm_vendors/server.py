"""One local aiohttp server that speaks OpenAI, Anthropic and Gemini and answers from a script."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from aiohttp import web

from . import anthropic_wire, gemini_wire, openai_wire
from .anthropic_wire import AnthropicWire
from .gemini_wire import GeminiWire
from .openai_wire import OpenAIWire
from .script import (
    CutStream,
    Fail,
    Hang,
    Reply,
    Responder,
    Step,
    VendorRequest,
    as_reply,
    echo,
)
from .wire import JSON, Wire

FAKE_API_KEY = "sk-magpie-fake-key"
OPENAI_MODELS = ["gpt-4o-mini", "gpt-4.1", "gpt-5-mini"]
ANTHROPIC_MODELS = ["claude-haiku-4-5", "claude-sonnet-4-5"]
GEMINI_MODELS = ["gemini-2.5-flash", "gemini-2.5-pro"]
_REASONS = {529: "Overloaded"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Sleep = Callable[[float], Awaitable[None]]


class FakeLLMVendors:
    """Local OpenAI, Anthropic and Gemini APIs answering from a vendor-neutral script."""

    def __init__(
        self,
        *,
        api_key: str = FAKE_API_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        sleep: Sleep = asyncio.sleep,
    ):
        self.api_key = api_key
        self._sleep = sleep  # every scripted delay waits here: tests can record instead of wait
        self.requests: list[VendorRequest] = []
        self.responder: Responder | None = None
        self._queue: deque[Step] = deque()
        self._hangs: list[Hang] = []
        self._arrived = asyncio.Event()
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None

    def enqueue(self, *steps: Step) -> None:
        """Script the next calls, in order; they win over `responder` and the echo."""
        self._queue.extend(steps)

    @property
    def pending(self) -> int:
        """Scripted steps not yet used."""
        return len(self._queue)

    def release(self) -> None:
        """End every `Hang` in progress now."""
        for hang in self._hangs:
            hang.release()

    async def wait_for_requests(self, count: int = 1) -> None:
        """Return once at least `count` requests have arrived in total."""
        while len(self.requests) < count:
            self._arrived.clear()
            await self._arrived.wait()

    @property
    def base_url(self) -> str:
        """The server's root URL."""
        if self._runner is None:
            raise RuntimeError("FakeLLMVendors is not running; use `async with`.")
        return f"http://{self._host}:{self._port}"

    @property
    def openai_base_url(self) -> str:
        """`base_url` for `AsyncOpenAI` and `OpenAIProvider`."""
        return f"{self.base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """`base_url` for `AsyncAnthropic` and `AnthropicProvider`."""
        return self.base_url

    @property
    def gemini_base_url(self) -> str:
        """`HttpOptions.base_url` for `google.genai.Client`, and `GoogleProvider(base_url=...)`."""
        return f"{self.base_url}/"

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.add_routes(self._routes())
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        await web.TCPSite(runner, self._host, self._port).start()
        self._port = runner.addresses[0][1]
        self._runner = runner
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _routes(self) -> list[web.RouteDef]:
        """Every endpoint the three SDKs call."""
        return [
            web.post("/v1/chat/completions", self._handler(OpenAIWire())),
            web.post("/v1/messages", self._handler(AnthropicWire())),
            web.post("/v1beta/models/{model_action}", self._handler(GeminiWire())),
            web.get("/v1/models", self._list_models),
            web.get("/v1beta/models", self._list_gemini_models),
        ]

    def _handler(self, wire: Wire) -> Handler:
        """The request handler for one vendor."""

        async def handle(request: web.Request) -> web.StreamResponse:
            if not wire.authorized(request, self.api_key):
                return _error_response(wire, Fail(401))
            try:
                call = await wire.read(request)
            except ValueError:
                return _error_response(wire, Fail(400, message="The body is not valid JSON."))
            self.requests.append(call)
            self._arrived.set()
            return await self._perform(await self._next_step(call), wire, call, request)

        return handle

    async def _next_step(self, call: VendorRequest) -> Step:
        """The queue first, then the responder, then the echo."""
        if self._queue:
            return self._queue.popleft()
        if self.responder is None:
            return echo(call)
        step = self.responder(call)
        return await step if isinstance(step, Awaitable) else step

    async def _perform(
        self, step: Step, wire: Wire, call: VendorRequest, request: web.Request
    ) -> web.StreamResponse:
        """Answer `request` the way `step` says."""
        if isinstance(step, Fail):
            if step.in_stream and call.stream:
                return await _stream_failure(wire, call, request, step)
            return _error_response(wire, step)
        if isinstance(step, Hang):
            self._hangs.append(step)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(step.released.wait(), step.seconds)
            finally:
                self._hangs.remove(step)
            return await self._perform(step.then or echo(call), wire, call, request)
        if isinstance(step, CutStream):
            if not call.stream:
                _close_socket(request)
                return web.Response()
            reply = step.as_reply()
            return await _stream(
                wire, call, request, reply, sleep=self._sleep, cut_after=step.after_chunks
            )
        reply = as_reply(step)
        if call.stream:
            return await _stream(wire, call, request, reply, sleep=self._sleep)
        if reply.first_token_delay > 0:
            await self._sleep(reply.first_token_delay)
        return web.json_response(wire.body(reply, call))

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        """`GET /v1/models`: OpenAI's list, or Anthropic's when the caller is the Anthropic SDK."""
        if "anthropic-version" in request.headers:
            return _listing(request, AnthropicWire(), self.api_key, anthropic_wire.models_list)
        return _listing(request, OpenAIWire(), self.api_key, openai_wire.models_list)

    async def _list_gemini_models(self, request: web.Request) -> web.StreamResponse:
        """`GET /v1beta/models`."""
        return _listing(request, GeminiWire(), self.api_key, gemini_wire.models_list)


def _listing(
    request: web.Request, wire: Wire, api_key: str, render: Callable[[list[str]], JSON]
) -> web.StreamResponse:
    """A model list, after the vendor's auth check."""
    if not wire.authorized(request, api_key):
        return _error_response(wire, Fail(401))
    models = {"openai": OPENAI_MODELS, "anthropic": ANTHROPIC_MODELS, "gemini": GEMINI_MODELS}
    return web.json_response(render(models[wire.vendor]))


def _error_response(wire: Wire, fail: Fail) -> web.Response:
    """The vendor's error JSON with the status and `Retry-After` header."""
    headers = {} if fail.retry_after is None else {"Retry-After": f"{fail.retry_after:g}"}
    return web.json_response(
        wire.error(fail.status, fail.message, fail.retry_after),
        status=fail.status,
        reason=_REASONS.get(fail.status),
        headers=headers,
    )


def _close_socket(request: web.Request) -> None:
    """Close the connection; aiohttp then fails to finish the response and gives up quietly."""
    if request.transport is not None:
        request.transport.close()


async def _open_stream(wire: Wire, request: web.Request) -> web.StreamResponse:
    """Send a 200 with the vendor's event-stream headers."""
    response = web.StreamResponse(
        headers={"Content-Type": wire.stream_content_type, "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    return response


async def _stream(
    wire: Wire,
    call: VendorRequest,
    request: web.Request,
    reply: Reply,
    *,
    sleep: Sleep,
    cut_after: int | None = None,
) -> web.StreamResponse:
    """Stream `reply`, paced only as scripted, optionally dropping the connection mid-way."""
    plan = wire.stream(reply, call)
    response = await _open_stream(wire, request)
    if plan.head:
        await response.write(b"".join(plan.head))
    if not plan.pieces and reply.first_token_delay > 0:
        await sleep(reply.first_token_delay)
    for number, piece in enumerate(plan.pieces):
        if cut_after is not None and number >= cut_after:
            break
        delay = reply.first_token_delay if number == 0 else reply.chunk_delay
        if delay > 0:
            await sleep(delay)
        await response.write(piece)
    if cut_after is not None:
        _close_socket(request)
        return response
    await response.write(b"".join(plan.tail))
    await response.write_eof()
    return response


async def _stream_failure(
    wire: Wire, call: VendorRequest, request: web.Request, fail: Fail
) -> web.StreamResponse:
    """Open a stream, then report `fail` inside it the way the vendor does."""
    response = await _open_stream(wire, request)
    plan = wire.stream(Reply(), call)
    await response.write(b"".join(plan.head) + wire.stream_error(fail.status, fail.message))
    await response.write_eof()
    return response
