"""HTTP front of the sandbox: /bot<token>/<method>, /file/bot<token>/<path>, /sandbox/api."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from tg_sandbox.api import ConnectionReset, Reply
from tg_sandbox.errors import ApiError, not_found
from tg_sandbox.params import MAX_BODY_BYTES, read_params

if TYPE_CHECKING:
    from tg_sandbox.sandbox import Sandbox

SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox")


def json_response(reply: Reply) -> web.Response:
    headers = {}
    if reply.status == 429 and reply.retry_after is not None:
        headers["Retry-After"] = str(reply.retry_after)
    return web.Response(
        status=reply.status,
        body=json.dumps(reply.body, ensure_ascii=False, separators=(",", ":")).encode(),
        content_type="application/json",
        headers=headers,
    )


def _error(error: ApiError) -> web.Response:
    return json_response(Reply(error.code, error.envelope()))


async def bot_method(request: web.Request) -> web.StreamResponse:
    sandbox = request.app[SANDBOX_KEY]
    token = request.match_info["token"]
    try:
        params = await read_params(request)
    except ApiError as error:
        return _error(error)
    method = request.match_info.get("method") or params.get("method") or ""
    try:
        reply = await sandbox.api.call(token, method, params)
    except ConnectionReset:
        if request.transport is not None:
            request.transport.abort()
        raise web.HTTPInternalServerError() from None
    return json_response(reply)


async def download_file(request: web.Request) -> web.StreamResponse:
    sandbox = request.app[SANDBOX_KEY]
    try:
        sandbox.api.bot_for(request.match_info["token"])
    except ApiError as error:
        return _error(error)
    stored = sandbox.world.files_by_path.get(request.match_info["path"])
    if stored is None:
        return _error(not_found())
    return web.Response(
        body=stored.data, content_type=stored.mime_type or "application/octet-stream"
    )


async def unknown_path(request: web.Request) -> web.StreamResponse:
    return _error(not_found())


@web.middleware
async def too_large(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return _error(ApiError(413, "Request Entity Too Large"))


def build_app(sandbox: Sandbox) -> web.Application:
    from tg_sandbox.control_http import add_control_routes
    from tg_sandbox.webchat import add_webchat_routes

    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[too_large])
    app[SANDBOX_KEY] = sandbox
    app.router.add_route("*", "/bot{token}/test/{method}", bot_method)
    app.router.add_route("*", "/bot{token}/{method}", bot_method)
    app.router.add_route("*", "/bot{token}/", bot_method)
    app.router.add_get("/file/bot{token}/{path:.+}", download_file)
    add_control_routes(app)
    add_webchat_routes(app)
    app.router.add_route("*", "/{tail:.*}", unknown_path)
    return app
