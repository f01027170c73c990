"""HTTP front of the sandbox: /bot<token>/<method>, /file/bot<token>/<path>, /sandbox/api."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from tg_sandbox.api import ConnectionReset, Reply
from tg_sandbox.control import ControlSurface
from tg_sandbox.control_http import add_control_routes
from tg_sandbox.errors import ApiError, not_found
from tg_sandbox.params import MAX_BODY_BYTES, read_params
from tg_sandbox.webchat import add_webchat_routes

SURFACE_KEY: web.AppKey[ControlSurface] = web.AppKey("sandbox")


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
    surface = request.app[SURFACE_KEY]
    token = request.match_info["token"]
    try:
        params = await read_params(request)
    except ApiError as error:
        return _error(error)
    method = request.match_info.get("method") or params.get("method") or ""
    try:
        reply = await surface.api.call(token, method, params)
    except ConnectionReset:
        if request.transport is not None:
            request.transport.abort()
        raise web.HTTPInternalServerError() from None
    return json_response(reply)


async def download_file(request: web.Request) -> web.StreamResponse:
    surface = request.app[SURFACE_KEY]
    try:
        surface.api.bot_for(request.match_info["token"])
    except ApiError as error:
        return _error(error)
    stored = surface.world.files_by_path.get(request.match_info["path"])
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


def build_app(surface: ControlSurface) -> web.Application:
    """The Bot API, the file downloads, the control API and the web chat page on one app."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[too_large])
    app[SURFACE_KEY] = surface
    app.router.add_route("*", "/bot{token}/test/{method}", bot_method)
    app.router.add_route("*", "/bot{token}/{method}", bot_method)
    app.router.add_route("*", "/bot{token}/", bot_method)
    app.router.add_get("/file/bot{token}/{path:.+}", download_file)
    add_control_routes(app, surface)
    add_webchat_routes(app, surface)
    app.router.add_route("*", "/{tail:.*}", unknown_path)
    return app
