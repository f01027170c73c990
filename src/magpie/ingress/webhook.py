"""The webhook front door: the secret checked in constant time, the update recorded, then 200.

Answers: 401 without the right secret; 400 for a body that is not an update Magpie can store
(not JSON, nested deeper than MAX_DEPTH, an update_id outside 0 … 2⁶³-1, a lone surrogate,
fields of the wrong type); 503 when the database could not record it (Telegram delivers it
again later); 200 once it is recorded — or was already, for a redelivery.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import structlog
from aiohttp import web
from pydantic import ValidationError

from magpie.ingress.pipeline import UpdatePipeline
from magpie.storage.outages import DATABASE_ERRORS

log = structlog.get_logger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
PIPELINE_KEY: web.AppKey[UpdatePipeline] = web.AppKey("pipeline")
SECRET_KEY: web.AppKey[bytes] = web.AppKey("webhook_secret")
MAX_DEPTH = 64  # real updates nest about a dozen levels (a reply's keyboard's button)
MAX_UPDATE_ID = 2**63 - 1  # the inbox's BIGINT


class MalformedUpdate(ValueError):
    """A webhook body that is not an update."""


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object of an update, or MalformedUpdate saying why not."""
    try:
        payload = json.loads(body)
    except RecursionError:
        raise MalformedUpdate(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # also UnicodeDecodeError
        raise MalformedUpdate(f"not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise MalformedUpdate("not a JSON object")
    update_id = payload.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise MalformedUpdate("no integer update_id")
    if not 0 <= update_id <= MAX_UPDATE_ID:
        raise MalformedUpdate("update_id out of range")
    problem = unstorable(payload, max_depth=MAX_DEPTH)
    if problem is not None:
        raise MalformedUpdate(problem)
    return payload


def unstorable(value: object, *, max_depth: int) -> str | None:
    """Why `value` cannot be kept as JSON text in the inbox, if it cannot: nested deeper than
    `max_depth`, or text with a lone surrogate (valid in JSON escapes, not in UTF-8)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and not _encodable(item):
                return "text that is not Unicode (a lone surrogate)"
            continue
        if isinstance(item, dict):
            children: list[object] = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return f"nested deeper than {max_depth} levels"
        stack.extend((child, depth + 1) for child in children)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


async def receive(request: web.Request) -> web.Response:
    expected = request.app[SECRET_KEY]
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, expected):
        log.warning("webhook.bad_secret", remote=request.remote)
        return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
    pipeline = request.app[PIPELINE_KEY]
    try:
        update = pipeline.parse(parse_body(await request.read()))
    except (MalformedUpdate, ValidationError) as error:
        log.warning("webhook.malformed_update", error=str(error)[:500])
        return web.json_response({"ok": False, "error": "malformed update"}, status=400)
    try:
        await pipeline.accept([update])
    except DATABASE_ERRORS as error:
        log.error(
            "webhook.record_failed",
            update_id=update.update_id,
            error=f"{type(error).__name__}: {error}"[:500],
        )
        return web.json_response({"ok": False, "error": "try again later"}, status=503)
    return web.json_response({"ok": True})


def webhook_app(pipeline: UpdatePipeline, *, secret: str, path: str) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[PIPELINE_KEY] = pipeline
    app[SECRET_KEY] = secret.encode()
    app.router.add_post(path, receive)
    return app
