"""The weather tool: Open-Meteo's geocoding, then its forecast for the place found."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from magpie.tools.deps import ToolDeps

UNREACHABLE = "the weather service can't be reached right now"
CURRENT = "temperature_2m,apparent_temperature,wind_speed_10m,weather_code"
DAILY = "temperature_2m_min,temperature_2m_max"

# WMO weather interpretation codes, as documented by Open-Meteo.
CONDITIONS = {
    0: "clear sky",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "freezing fog",
    51: "light drizzle",
    53: "drizzle",
    55: "dense drizzle",
    56: "light freezing drizzle",
    57: "freezing drizzle",
    61: "light rain",
    63: "rain",
    65: "heavy rain",
    66: "light freezing rain",
    67: "freezing rain",
    71: "light snow",
    73: "snow",
    75: "heavy snow",
    77: "snow grains",
    80: "light rain showers",
    81: "rain showers",
    82: "violent rain showers",
    85: "snow showers",
    86: "heavy snow showers",
    95: "thunderstorm",
    96: "thunderstorm with hail",
    99: "thunderstorm with heavy hail",
}

JSONObject = Mapping[str, object]


class _Unavailable(Exception):
    """The service could not be reached or answered with something unusable."""


async def weather(deps: ToolDeps, place: str) -> str:
    """Current weather and today's low/high for a place, e.g. "Kyiv" or "Paris, France"."""
    name, _, qualifier = place.partition(",")
    if not name.strip():
        return "tell me which place to check the weather for"
    try:
        found = await _geocode(deps, name.strip(), qualifier.strip())
        if found is None:
            return f"I couldn't find a place called {place.strip()!r}"
        forecast = await _get(
            deps,
            deps.settings.forecast_url,
            {
                "latitude": str(found["latitude"]),
                "longitude": str(found["longitude"]),
                "current": CURRENT,
                "daily": DAILY,
                "timezone": "auto",
                "forecast_days": "1",
            },
        )
        return f"{_place_name(found)}: {_describe(forecast)}"
    except _Unavailable as exc:
        return str(exc)


async def _geocode(deps: ToolDeps, name: str, qualifier: str) -> JSONObject | None:
    """The best match for `name`; with a qualifier ("France", "Texas") prefer one that agrees."""
    params = {"name": name, "count": "10" if qualifier else "1", "language": "en", "format": "json"}
    results = (await _get(deps, deps.settings.geocoding_url, params)).get("results")
    if not isinstance(results, list) or not results:
        return None
    places = [p for p in results if isinstance(p, Mapping) and "latitude" in p]
    wanted = qualifier.casefold()
    chosen = [p for p in places if wanted in _qualifiers(p)] or places
    return chosen[0] if chosen else None


async def _get(deps: ToolDeps, url: str, params: Mapping[str, str]) -> JSONObject:
    """GET a JSON object, turning every way it can fail into `_Unavailable`."""
    try:
        response = await deps.http.get(url, params=params, timeout=deps.settings.request_timeout)
    except httpx.HTTPError as exc:
        raise _Unavailable(UNREACHABLE) from exc
    if response.status_code != 200:
        raise _Unavailable(
            f"the weather service answered with an error (HTTP {response.status_code})"
        )
    try:
        body = response.json()
    except ValueError as exc:
        raise _Unavailable("the weather service sent an answer I couldn't read") from exc
    if not isinstance(body, Mapping):
        raise _Unavailable("the weather service sent an answer I couldn't read")
    return body


def _describe(forecast: JSONObject) -> str:
    """Conditions, temperature, wind and today's range in one line."""
    now, units, daily = (_mapping(forecast.get(k)) for k in ("current", "current_units", "daily"))
    if "temperature_2m" not in now:
        raise _Unavailable("the weather service sent an answer I couldn't read")
    unit, wind_unit = units.get("temperature_2m", "°C"), units.get("wind_speed_10m", "km/h")
    code = now.get("weather_code")
    conditions = CONDITIONS.get(code) if isinstance(code, int) else None
    feels = now.get("apparent_temperature", "?")
    text = (
        f"{conditions or 'unknown conditions'}, {now['temperature_2m']} {unit} "
        f"(feels like {feels} {unit}), wind {now.get('wind_speed_10m', '?')} {wind_unit}"
    )
    lows, highs = daily.get("temperature_2m_min"), daily.get("temperature_2m_max")
    if isinstance(lows, list) and isinstance(highs, list) and lows and highs:
        text += f"; today {lows[0]} to {highs[0]} {unit}"
    return text


def _place_name(place: JSONObject) -> str:
    """Name, region and country, e.g. Paris, Île-de-France, France."""
    parts = [place.get(k) for k in ("name", "admin1", "country")]
    names = [str(p) for p in parts if p]
    return ", ".join(dict.fromkeys(names))


def _qualifiers(place: JSONObject) -> set[str]:
    """The words a user might add after a comma to say which place they mean."""
    return {str(place.get(k, "")).casefold() for k in ("country", "country_code", "admin1")}


def _mapping(value: object) -> JSONObject:
    return value if isinstance(value, Mapping) else {}
