"""/metrics and /healthz over HTTP, for Prometheus and for load balancers."""

from __future__ import annotations

from aiohttp import web

from magpie.observability.metrics import Metrics

METRICS_KEY: web.AppKey[Metrics] = web.AppKey("metrics")


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = request.app[METRICS_KEY].exposition()
    return web.Response(body=body, content_type="text/plain", charset="utf-8")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def add_observability_routes(app: web.Application, metrics: Metrics) -> None:
    app[METRICS_KEY] = metrics
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/healthz", health)
