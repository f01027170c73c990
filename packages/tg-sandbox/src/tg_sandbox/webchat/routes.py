"""GET / serves the chat page and GET /static/<name> its assets, straight from the package."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from tg_sandbox.control import ControlSurface

STATIC = Path(__file__).parent / "static"
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
NO_CACHE = {"Cache-Control": "no-cache"}  # the demo page must never run yesterday's script


def _asset(name: str) -> web.Response:
    """One file of the static directory by bare name; nothing outside it, nothing unlisted."""
    path = STATIC / name
    content_type = CONTENT_TYPES.get(path.suffix)
    if "/" in name or name.startswith(".") or content_type is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=path.read_bytes(), content_type=content_type, charset="utf-8", headers=NO_CACHE
    )


async def page(request: web.Request) -> web.Response:
    return _asset("index.html")


async def static(request: web.Request) -> web.Response:
    return _asset(request.match_info["name"])


def add_webchat_routes(app: web.Application, sandbox: ControlSurface) -> None:
    """Add the page and its assets; call before the server's catch-all route."""

    async def release_long_polls(app: web.Application) -> None:
        """Answer the pages' pending /wait polls, so stopping the server does not wait on them."""
        sandbox.world.changed()

    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", static)
    app.on_shutdown.append(release_long_polls)
