"""Local stand-ins for the web services the built-in tools call: Open-Meteo, SearXNG, web pages."""

from __future__ import annotations

import abc
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    """One request a fake received."""

    path: str
    params: dict[str, str]
    host: str = ""  # the Host header


class LocalSite(abc.ABC):
    """An aiohttp app on a loopback address and a free port, run as an async context manager."""

    def __init__(self, *, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None):
        self.host, self.port = host, 0
        self.requests: list[Seen] = []
        self._ssl = ssl_context
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError(f"{type(self).__name__} is not running; use `async with`.")
        return f"{'https' if self._ssl else 'http'}://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @abc.abstractmethod
    def routes(self) -> list[web.RouteDef]:
        """What this site serves."""

    def record(self, request: web.Request) -> None:
        self.requests.append(Seen(request.path, dict(request.query), request.host))

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.add_routes(self.routes())
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        await web.TCPSite(runner, self.host, 0, ssl_context=self._ssl).start()
        self.port = runner.addresses[0][1]
        self._runner = runner
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


# --- Open-Meteo -------------------------------------------------------------------------------


_CITY_FIELDS = ("name", "admin1", "country", "country_code", "latitude", "longitude", "id",
                "timezone", "population")  # fmt: skip
CITIES: list[dict[str, Any]] = [
    dict(zip(_CITY_FIELDS, row, strict=True)) | {"elevation": 40.0, "feature_code": "PPLC"}
    for row in [
        ("Berlin", "Land Berlin", "Germany", "DE", 52.52437, 13.41053, 2950159, "Europe/Berlin",
         3426354),
        ("Kyiv", "Kyiv City", "Ukraine", "UA", 50.45466, 30.5238, 703448, "Europe/Kyiv", 2797553),
        ("Paris", "Île-de-France", "France", "FR", 48.85341, 2.3488, 2988507, "Europe/Paris",
         2138551),
        ("Paris", "Texas", "United States", "US", 33.66094, -95.55551, 4717560, "America/Chicago",
         24171),
        ("Tokyo", "Tokyo", "Japan", "JP", 35.6895, 139.69171, 1850147, "Asia/Tokyo", 8336599),
    ]
]  # fmt: skip

# (city id) -> current temperature, apparent temperature, wind, WMO code; today's min, max
WEATHER = {
    2950159: (20.1, 19.0, 11.2, 3, 12.1, 22.3),  # Berlin: overcast
    703448: (-3.4, -8.0, 14.0, 71, -6.2, -1.0),  # Kyiv: light snow
    2988507: (24.5, 25.1, 6.1, 0, 15.0, 27.9),  # Paris, France: clear sky
    4717560: (31.0, 35.2, 22.3, 95, 24.4, 33.8),  # Paris, Texas: thunderstorm
    1850147: (18.2, 17.5, 9.0, 61, 14.3, 19.6),  # Tokyo: light rain
}
CURRENT_UNITS = {"temperature_2m": "°C", "apparent_temperature": "°C", "wind_speed_10m": "km/h",
                 "weather_code": "wmo code", "relative_humidity_2m": "%"}  # fmt: skip
DAILY_UNITS = {"temperature_2m_max": "°C", "temperature_2m_min": "°C", "weather_code": "wmo code"}


def forecast(query: Mapping[str, str]) -> dict[str, Any]:
    """Open-Meteo's forecast body for `current=` and `daily=` variables at a city's coordinates."""
    lat, lon = float(query["latitude"]), float(query["longitude"])
    city = min(CITIES, key=lambda c: abs(c["latitude"] - lat) + abs(c["longitude"] - lon))
    temp, feels, wind, code, low, high = WEATHER[city["id"]]
    now: dict[str, object] = {
        "temperature_2m": temp,
        "apparent_temperature": feels,
        "wind_speed_10m": wind,
        "weather_code": code,
        "relative_humidity_2m": 50,
    }
    today: dict[str, object] = {
        "temperature_2m_max": [high],
        "temperature_2m_min": [low],
        "weather_code": [code],
    }
    current = [v for v in query.get("current", "").split(",") if v]
    daily = [v for v in query.get("daily", "").split(",") if v]
    for name, known in [*((v, now) for v in current), *((v, today) for v in daily)]:
        if name not in known:
            raise ValueError(f"Cannot initialize WeatherVariable from invalid String value {name}")
    body: dict[str, Any] = {
        "latitude": lat, "longitude": lon, "generationtime_ms": 0.05, "utc_offset_seconds": 0,
        "timezone": city["timezone"], "timezone_abbreviation": "GMT", "elevation": 40.0,
    }  # fmt: skip
    if current:
        body["current_units"] = {"time": "iso8601", "interval": "seconds"} | {
            v: CURRENT_UNITS[v] for v in current
        }
        body["current"] = {"time": "2025-06-01T12:00", "interval": 900} | {
            v: now[v] for v in current
        }
    if daily:
        body["daily_units"] = {"time": "iso8601"} | {v: DAILY_UNITS[v] for v in daily}
        body["daily"] = {"time": ["2025-06-01"]} | {v: today[v] for v in daily}
    return body


class FakeOpenMeteo(LocalSite):
    """Open-Meteo's geocoding (`/v1/search`) and forecast (`/v1/forecast`) APIs for a few cities."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_status: int | None = None  # answer every request with this error

    @property
    def geocoding_url(self) -> str:
        return self.url("/v1/search")

    @property
    def forecast_url(self) -> str:
        return self.url("/v1/forecast")

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/v1/search", self._search), web.get("/v1/forecast", self._forecast)]

    async def _search(self, request: web.Request) -> web.Response:
        self.record(request)
        if self.fail_status is not None:
            return _meteo_error(self.fail_status, "Internal server error")
        name = request.query.get("name", "").strip().casefold()
        found = [c for c in CITIES if len(name) >= 2 and c["name"].casefold().startswith(name)]
        found.sort(key=lambda c: -c["population"])
        body: dict[str, Any] = {"generationtime_ms": 0.4}  # no "results" key when nothing matches
        if found:
            body = {"results": found[: int(request.query.get("count", "10"))], **body}
        return web.json_response(body)

    async def _forecast(self, request: web.Request) -> web.Response:
        self.record(request)
        if self.fail_status is not None:
            return _meteo_error(self.fail_status, "Internal server error")
        try:
            return web.json_response(forecast(request.query))
        except (KeyError, ValueError) as exc:
            return _meteo_error(400, str(exc))


def _meteo_error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": True, "reason": reason}, status=status)


# --- SearXNG ----------------------------------------------------------------------------------


def hit(title: str, url: str, content: str, *, engine: str = "duckduckgo") -> dict[str, Any]:
    """One result as SearXNG's JSON API lists it."""
    scheme, _, rest = url.partition("://")
    netloc, _, path = rest.partition("/")
    return {
        "url": url, "title": title, "content": content, "engine": engine, "engines": [engine],
        "parsed_url": [scheme, netloc, f"/{path}", "", "", ""], "template": "default.html",
        "positions": [1], "score": 1.0, "category": "general", "publishedDate": None,
    }  # fmt: skip


def search_corpus() -> dict[str, list[dict[str, Any]]]:
    """The default answers: seven hits for "magpie", one with a long snippet, none otherwise."""
    magpies = [
        hit(f"Magpie fact {n}", f"https://birds.example/magpie/{n}", f"Magpies fact number {n}.")
        for n in range(1, 8)
    ]
    magpies[1]["content"] = "A very long snippet. " * 40
    return {"magpie": magpies}


class FakeSearXNG(LocalSite):
    """SearXNG's `/search?format=json`; `results` maps a lower-case query to its hits."""

    def __init__(self) -> None:
        super().__init__()
        self.results = search_corpus()
        self.json_enabled = True  # real instances answer 403 until `json` is in `search.formats`

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/search", self._search)]

    async def _search(self, request: web.Request) -> web.Response:
        self.record(request)
        if request.query.get("format") != "json" or not self.json_enabled:
            return web.Response(status=403, text="403 Forbidden", content_type="text/html")
        query = request.query.get("q", "")
        hits = self.results.get(query.casefold(), [])
        return web.json_response({
            "query": query, "number_of_results": len(hits), "results": hits, "answers": [],
            "corrections": [], "infoboxes": [], "suggestions": [], "unresponsive_engines": [],
        })  # fmt: skip


# --- web pages --------------------------------------------------------------------------------


def _article(title: str, paragraphs: list[str], *, encoding: str = "utf-8") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a> | <a href='/about'>About us</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        f"<footer>Copyright 2025 Bird Facts Ltd.</footer></body></html>"
    ).encode(encoding)


MAGPIE_FACTS = [
    "The Eurasian magpie is one of the most intelligent birds, and one of the few animals"
    " known to <a href='https://science.example/mirror'>recognise itself in a mirror</a>.",
    "Magpies live in pairs all year round and build domed nests of sticks in tall trees.",
    "They eat almost anything: insects, seeds, berries, eggs and the scraps people leave.",
]
CORVID_FACTS = [
    "Crows, ravens, jays and magpies belong to the corvid family of songbirds.",
    "New Caledonian crows bend twigs into hooks to pull grubs out of holes in dead wood.",
    "Ravens in experiments planned ahead, saving a tool they would need only the next day.",
]
HTML = "text/html; charset=utf-8"
PAGES: dict[str, tuple[bytes, str]] = {
    "/article": (_article("Magpies are clever", MAGPIE_FACTS), HTML),
    "/second-article": (_article("Corvids use tools", CORVID_FACTS), HTML),
    "/latin1": (
        _article(
            "Café birds", ["Un café où les pies mangent des miettes. " * 6], encoding="latin-1"
        ),
        "text/html; charset=iso-8859-1",
    ),
    "/huge": (
        _article("A very long page", [f"Paragraph {n}. " + "Chatter. " * 40 for n in range(4000)]),
        HTML,
    ),
    "/empty": (b"<html><body><div></div></body></html>", HTML),
    "/notes.txt": (
        "Shopping list:\n- seeds\n- peanuts\n- насіння\n".encode(),
        "text/plain; charset=utf-8",
    ),
    "/readme.md": (b"# Bird feeder\n\nFill it **every** morning.\n", "text/markdown"),
    "/file.bin": (bytes(range(256)) * 64, "application/octet-stream"),
    "/photo.png": (b"\x89PNG\r\n\x1a\n" + bytes(512), "image/png"),
}


class PageServer(LocalSite):
    """Web pages on 127.0.0.2, plus a "secret" site on 127.0.0.1 that tests must never reach.

    Tests allow exactly 127.0.0.2/32, so the redirect to 127.0.0.1 stays a private address.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(host="127.0.0.2", ssl_context=ssl_context)
        self.secret = SecretSite()

    @property
    def secret_url(self) -> str:
        return self.secret.url("/secret")

    def routes(self) -> list[web.RouteDef]:
        return [
            *(web.get(path, self._page(path)) for path in PAGES),
            web.get("/redirect-ok", self._redirect(lambda: "/second-article")),
            web.get("/redirect-absolute", self._redirect(lambda: self.url("/article"))),
            web.get("/redirect-to-loopback", self._redirect(lambda: self.secret_url)),
            web.get("/redirect-loop", self._redirect(lambda: "/redirect-loop")),
            web.get("/sign-in", self._sign_in),
            web.get("/account", self._account),
        ]

    async def _sign_in(self, request: web.Request) -> web.StreamResponse:
        """A site that hands whoever reads it a session cookie."""
        self.record(request)
        response = web.Response(body=_article("Welcome", ["You are signed in."]))
        response.headers["Content-Type"] = "text/html"
        response.set_cookie("session", "olenas-session")
        return response

    async def _account(self, request: web.Request) -> web.StreamResponse:
        """Shows the account of whoever's session cookie comes with the request."""
        self.record(request)
        who = request.cookies.get("session", "nobody")
        body = _article("Your account", [f"Signed in as {who}. Balance: 1,000 EUR."])
        return web.Response(body=body, headers={"Content-Type": "text/html"})

    def _page(self, path: str) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.record(request)
            body, content_type = PAGES[path]
            return web.Response(body=body, headers={"Content-Type": content_type})

        return handle

    def _redirect(self, location: Callable[[], str]) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.record(request)
            raise web.HTTPFound(location())

        return handle

    async def __aenter__(self) -> Self:
        await self.secret.__aenter__()
        return await super().__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await super().__aexit__(exc_type, exc, tb)
        await self.secret.__aexit__(exc_type, exc, tb)


class SecretSite(LocalSite):
    """What an attacker wants the bot to read; `requests` stays empty when the guard works."""

    def routes(self) -> list[web.RouteDef]:
        async def secret(request: web.Request) -> web.StreamResponse:
            self.record(request)
            return web.Response(text="the admin password is hunter2")

        return [web.get("/secret", secret)]
