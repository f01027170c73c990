"""The webhook front door: the secret checked in constant time, the update recorded, then 200."""

from __future__ import annotations

import hmac
import json

import structlog
from aiohttp import web
from pydantic import ValidationError

from magpie.ingress.pipeline import UpdatePipeline

log = structlog.get_logger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
PIPELINE_KEY: web.AppKey[UpdatePipeline] = web.AppKey("pipeline")
SECRET_KEY: web.AppKey[bytes] = web.AppKey("webhook_secret")


async def receive(request: web.Request) -> web.Response:
    expected = request.app[SECRET_KEY]
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, expected):
        log.warning("webhook.bad_secret", remote=request.remote)
        return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
    try:
        payload = json.loads(await request.read())
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            raise ValueError("not an update")
        await request.app[PIPELINE_KEY].accept_raw(payload)
    except (ValueError, ValidationError) as error:
        log.warning("webhook.malformed_update", error=str(error)[:500])
        return web.json_response({"ok": False, "error": "malformed update"}, status=400)
    return web.json_response({"ok": True})


def webhook_app(pipeline: UpdatePipeline, *, secret: str, path: str) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[PIPELINE_KEY] = pipeline
    app[SECRET_KEY] = secret.encode()
    app.router.add_post(path, receive)
    return app
