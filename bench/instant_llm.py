"""An instant OpenAI-compatible Chat Completions server, so benchmarks measure the real wire.

`POST /v1/chat/completions` answers at once with a fixed short sentence: a `chat.completion`
object, or with `"stream": true` the server-sent `chat.completion.chunk` events the OpenAI API
sends (a role chunk, the text in five deltas, a chunk with `finish_reason`, a usage chunk when
`stream_options.include_usage` is set, then `data: [DONE]`). Tools offered and history are read
and ignored: the answer is always text. Run it in its own process:
`python -m bench.instant_llm PORT`; `capacity()` measures it from a client in another process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web

MODEL = "bench-instant"
REPLY = ("Noted", ", thanks", " — I will", " keep that", " in mind.")
COMPLETION_TOKENS = 9
JSON = dict[str, Any]

_ids = itertools.count(1)


def _envelope(kind: str, model: str) -> JSON:
    """The fields every completion and chunk carries."""
    return {
        "id": f"chatcmpl-bench{next(_ids):012d}",
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "service_tier": "default",
        "system_fingerprint": "fp_bench",
    }


def _usage(body_bytes: int) -> JSON:
    """A `CompletionUsage`; the prompt counted as about four bytes a token."""
    prompt = max(1, body_bytes // 4)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": prompt + COMPLETION_TOKENS,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def _event(payload: JSON | str) -> bytes:
    """One server-sent event."""
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n".encode()


def completion(model: str, body_bytes: int) -> JSON:
    """The non-streamed answer."""
    message: JSON = {"role": "assistant", "content": "".join(REPLY), "refusal": None}
    message["annotations"] = []
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
    return _envelope("chat.completion", model) | {
        "choices": [choice],
        "usage": _usage(body_bytes),
    }


def chunks(model: str, body_bytes: int, *, with_usage: bool) -> list[bytes]:
    """The streamed answer, event by event, as the OpenAI API frames it."""
    base = _envelope("chat.completion.chunk", model)
    if with_usage:
        base["usage"] = None

    def chunk(delta: JSON, finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return _event(base | {"choices": [choice]})

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [chunk({"content": piece}) for piece in REPLY]
    events.append(chunk({}, "stop"))
    if with_usage:
        events.append(_event(base | {"choices": [], "usage": _usage(body_bytes)}))
    events.append(_event("[DONE]"))
    return events


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Answer a Chat Completions request at once, whole or streamed."""
    raw = await request.read()
    body: JSON = json.loads(raw)
    model = str(body.get("model") or MODEL)
    if not body.get("stream"):
        return web.json_response(completion(model, len(raw)))
    with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    for event in chunks(model, len(raw), with_usage=with_usage):
        await response.write(event)
    await response.write_eof()
    return response


def instant_app() -> web.Application:
    """The server's routes."""
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat_completions)
    return app


async def capacity(base_url: str, *, stream: bool, calls: int, connections: int = 32) -> float:
    """Calls per second this server answers a raw aiohttp client (run it in another process)."""
    url = f"{base_url}/chat/completions"
    body: JSON = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench"}
    remaining = calls
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                async with http.post(url, data=payload, headers=headers) as response:
                    answer = await response.read()
                    assert response.status == 200, answer

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return calls / (time.perf_counter() - started)


def main() -> None:
    web.run_app(instant_app(), host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
