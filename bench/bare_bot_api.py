"""Baseline server: answers every Bot API call with a canned message, doing nothing else.

It is the floor under the sandbox's numbers: aiohttp, the same JSON envelope, no state.
"""

from __future__ import annotations

import json
import sys

from aiohttp import web

CANNED = json.dumps(
    {
        "ok": True,
        "result": {
            "message_id": 1,
            "date": 1790000000,
            "chat": {"id": 100001, "type": "private", "first_name": "Ann"},
            "from": {"id": 7000000001, "is_bot": True, "first_name": "Magpie"},
            "text": "hello",
        },
    }
).encode()


async def answer(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=CANNED, content_type="application/json")


def main() -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
