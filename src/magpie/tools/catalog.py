"""The built-in tools and their rules (who may use them, whether they change anything)."""

from __future__ import annotations

from magpie.texts import ENGLISH, Texts
from magpie.tools.builtin.calculator import calculate
from magpie.tools.builtin.clock import current_time
from magpie.tools.builtin.notes import find_notes, save_note
from magpie.tools.builtin.pages import read_page
from magpie.tools.builtin.search import web_search
from magpie.tools.builtin.weather import weather
from magpie.tools.spec import ToolSpec, tool


def builtin_tools(*, can_search: bool = True, texts: Texts = ENGLISH) -> list[ToolSpec]:
    """Every built-in tool this bot can offer: web search only with a search service to ask
    (a tool that can only answer "not configured" would cost the model a step, for nothing)."""
    tools = [
        tool(current_time, status=texts.status_time),
        tool(calculate, status=texts.status_calculate),
        tool(weather, status=texts.status_weather),
        tool(web_search, status=texts.status_search),
        tool(read_page, status=texts.status_page),
        tool(save_note, side_effects=True, status=texts.status_save_note),
        tool(find_notes, status=texts.status_find_notes),
    ]
    return [spec for spec in tools if can_search or spec.name != "web_search"]
