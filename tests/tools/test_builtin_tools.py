"""Each built-in tool against a local fake of the service it calls, as the model would call it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from magpie.tools.builtin.calculator import calculate
from magpie.tools.builtin.clock import current_time
from magpie.tools.builtin.notes import MemoryNotes, find_notes, save_note
from magpie.tools.builtin.search import NOT_CONFIGURED, web_search
from magpie.tools.builtin.search import UNREACHABLE as SEARCH_DOWN
from magpie.tools.builtin.weather import UNREACHABLE as WEATHER_DOWN
from magpie.tools.builtin.weather import weather
from magpie.tools.deps import ToolSettings
from tests.fakes.web_services import FakeOpenMeteo, FakeSearXNG
from tests.tools.tool_deps import StatusLog, closed_port, in_chat, make_deps


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture
async def meteo() -> AsyncIterator[FakeOpenMeteo]:
    async with FakeOpenMeteo() as fake:
        yield fake


@pytest.fixture
async def searxng() -> AsyncIterator[FakeSearXNG]:
    async with FakeSearXNG() as fake:
        yield fake


def meteo_settings(meteo: FakeOpenMeteo) -> ToolSettings:
    return ToolSettings(geocoding_url=meteo.geocoding_url, forecast_url=meteo.forecast_url)


# --- clock ---


async def test_current_time_in_a_zone(http: httpx.AsyncClient) -> None:
    status = StatusLog()
    zone = ZoneInfo("Asia/Tokyo")
    before = datetime.now(zone).replace(microsecond=0)
    answer = await current_time(make_deps(http, status=status), "Asia/Tokyo")
    after = datetime.now(zone)

    shown = datetime.strptime(answer[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
    assert before <= shown <= after
    assert "Asia/Tokyo" in answer and "UTC+09:00" in answer


@pytest.mark.parametrize(
    ("asked", "zone"),
    [("UTC", "UTC"), ("europe/kyiv", "Europe/Kyiv"), ("New York", "America/New_York")],
)
async def test_current_time_forgives_how_a_zone_is_written(
    http: httpx.AsyncClient, asked: str, zone: str
) -> None:
    assert f" in {zone}," in await current_time(make_deps(http), asked)


@pytest.mark.parametrize("asked", ["Mars/Olympus_Mons", "Europe", "../../etc/passwd", "x" * 500])
async def test_current_time_explains_how_to_name_a_zone(
    http: httpx.AsyncClient, asked: str
) -> None:
    answer = await current_time(make_deps(http), asked)
    assert answer.startswith("unknown timezone") and "Europe/Kyiv" in answer


# --- calculator (properties are in test_calculator.py) ---


async def test_calculate_answers_and_announces(http: httpx.AsyncClient) -> None:
    status = StatusLog()
    assert await calculate(make_deps(http, status=status), "2 * (3 + 4) ** 2") == (
        "2 * (3 + 4) ** 2 = 98"
    )


# --- weather ---


async def test_weather_for_a_known_city(http: httpx.AsyncClient, meteo: FakeOpenMeteo) -> None:
    status = StatusLog()
    deps = make_deps(http, settings=meteo_settings(meteo), status=status)

    answer = await weather(deps, "Berlin")

    assert answer == (
        "Berlin, Land Berlin, Germany: overcast, 20.1 °C (feels like 19.0 °C), wind 11.2 km/h;"
        " today 12.1 to 22.3 °C"
    )
    geocoding, forecast = meteo.requests
    assert geocoding.path == "/v1/search"
    assert geocoding.params == {"name": "Berlin", "count": "1", "language": "en", "format": "json"}
    assert forecast.path == "/v1/forecast"
    assert (forecast.params["latitude"], forecast.params["longitude"]) == ("52.52437", "13.41053")


async def test_weather_uses_the_country_or_region_after_a_comma(
    http: httpx.AsyncClient, meteo: FakeOpenMeteo
) -> None:
    deps = make_deps(http, settings=meteo_settings(meteo))
    assert (await weather(deps, "Paris")).startswith("Paris, Île-de-France, France: clear sky")
    texas = await weather(deps, "Paris, Texas")
    assert texas.startswith("Paris, Texas, United States: thunderstorm, 31.0 °C")
    assert meteo.requests[2].params["name"] == "Paris"


async def test_weather_for_an_unknown_place(http: httpx.AsyncClient, meteo: FakeOpenMeteo) -> None:
    deps = make_deps(http, settings=meteo_settings(meteo))
    assert await weather(deps, "Atlantis") == "I couldn't find a place called 'Atlantis'"
    assert [r.path for r in meteo.requests] == ["/v1/search"]
    assert await weather(deps, "  ") == "tell me which place to check the weather for"


async def test_weather_when_the_service_is_down(http: httpx.AsyncClient) -> None:
    port = closed_port()
    settings = ToolSettings(
        geocoding_url=f"http://127.0.0.1:{port}/v1/search",
        forecast_url=f"http://127.0.0.1:{port}/v1/forecast",
    )
    assert await weather(make_deps(http, settings=settings), "Berlin") == WEATHER_DOWN


async def test_weather_when_the_service_fails(
    http: httpx.AsyncClient, meteo: FakeOpenMeteo
) -> None:
    meteo.fail_status = 502
    answer = await weather(make_deps(http, settings=meteo_settings(meteo)), "Kyiv")
    assert answer == "the weather service answered with an error (HTTP 502)"


# --- web search ---


async def test_search_shows_the_top_five(http: httpx.AsyncClient, searxng: FakeSearXNG) -> None:
    status = StatusLog()
    settings = ToolSettings(searxng_url=searxng.base_url + "/")
    answer = await web_search(make_deps(http, settings=settings, status=status), "Magpie")

    results = answer.split("\n\n")
    assert len(results) == 5
    assert results[0] == (
        "1. Magpie fact 1 — https://birds.example/magpie/1\n   Magpies fact number 1."
    )
    assert results[1].endswith("…") and len(results[1]) < 400  # a long snippet is cut
    assert "magpie/6" not in answer
    assert searxng.requests[0].params == {"q": "Magpie", "format": "json"}


async def test_search_with_no_results(http: httpx.AsyncClient, searxng: FakeSearXNG) -> None:
    deps = make_deps(http, settings=ToolSettings(searxng_url=searxng.base_url))
    assert await web_search(deps, "unicorn nests") == "no results for 'unicorn nests'"


async def test_search_not_configured(http: httpx.AsyncClient) -> None:
    assert await web_search(make_deps(http), "magpie") == NOT_CONFIGURED


async def test_search_when_the_service_is_down(http: httpx.AsyncClient) -> None:
    settings = ToolSettings(searxng_url=f"http://127.0.0.1:{closed_port()}")
    assert await web_search(make_deps(http, settings=settings), "magpie") == SEARCH_DOWN


async def test_search_when_json_is_not_enabled(
    http: httpx.AsyncClient, searxng: FakeSearXNG
) -> None:
    searxng.json_enabled = False
    deps = make_deps(http, settings=ToolSettings(searxng_url=searxng.base_url))
    assert "enable the json format" in await web_search(deps, "magpie")


# --- notes ---


async def test_notes_stay_in_their_chat(http: httpx.AsyncClient) -> None:
    status = StatusLog()
    here = make_deps(http, notes=MemoryNotes(), chat_id=-100, status=status)
    there = in_chat(here, -200)

    assert await save_note(here, "Feed the magpies at 8") == "saved note #1"
    assert await save_note(there, "The secret nest is behind the barn") == "saved note #2"
    assert await save_note(here, "  Buy PEANUTS for the feeder ") == "saved note #3"

    assert await find_notes(here, "secret nest") == "no notes match 'secret nest'"
    assert await find_notes(there, "secret") == "#2 (Taras): The secret nest is behind the barn"
    assert await find_notes(here, "peanuts feeder") == "#3 (Olena): Buy PEANUTS for the feeder"
    assert await find_notes(here) == (
        "#3 (Olena): Buy PEANUTS for the feeder\n#1 (Olena): Feed the magpies at 8"
    )
    assert await find_notes(in_chat(here, -300)) == "this chat has no notes yet"


async def test_notes_refuse_empty_and_overlong_text(http: httpx.AsyncClient) -> None:
    deps = make_deps(http)
    assert await save_note(deps, "   ") == "there is nothing to save: the note is empty"
    assert (await save_note(deps, "x" * 2001)).startswith("that note is too long")
    assert await find_notes(deps) == "this chat has no notes yet"


async def test_memory_notes_finds_every_word_in_any_case_newest_first() -> None:
    notes = MemoryNotes()
    for text in ["Magpie nest", "magpies eat seeds", "crows", "SEEDS for MAGPIES"]:
        await notes.add(1, author_id=1, author="a", text=text)
    found = await notes.find(1, "magpie SEEDS")
    assert [n.text for n in found] == ["SEEDS for MAGPIES", "magpies eat seeds"]
    assert [n.text for n in await notes.find(1, "", limit=2)] == ["SEEDS for MAGPIES", "crows"]
    assert await notes.find(2, "") == []
