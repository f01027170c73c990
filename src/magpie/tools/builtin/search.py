"""The web search tool: a SearXNG instance's JSON API, top results as short text."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from magpie.tools.deps import ToolDeps

NOT_CONFIGURED = "web search is not configured on this bot (set SEARXNG_URL)"
UNREACHABLE = "the search service can't be reached right now"
TOP = 5
SNIPPET_CHARS = 300


async def web_search(deps: ToolDeps, query: str) -> str:
    """Search the web; returns the top 5 results as title, URL and snippet."""
    base = deps.settings.searxng_url
    if base is None:
        return NOT_CONFIGURED
    if not query.strip():
        return "tell me what to search for"
    try:
        response = await deps.http.get(
            f"{base.rstrip('/')}/search",
            params={"q": query.strip(), "format": "json"},
            timeout=deps.settings.request_timeout,
        )
    except httpx.HTTPError:
        return UNREACHABLE
    if response.status_code == 403:
        return "the search service refused the request (enable the json format in SearXNG)"
    if response.status_code != 200:
        return f"the search service answered with an error (HTTP {response.status_code})"
    try:
        results = response.json().get("results")
    except (ValueError, AttributeError):
        return "the search service sent an answer I couldn't read"
    hits = (
        [_render(r) for r in results if isinstance(r, Mapping)] if isinstance(results, list) else []
    )
    hits = [hit for hit in hits if hit][:TOP]
    if not hits:
        return f"no results for {query.strip()!r}"
    return "\n\n".join(f"{n}. {hit}" for n, hit in enumerate(hits, start=1))


def _render(result: Mapping[str, object]) -> str:
    """Title, URL and an indented snippet; empty when the result has no URL."""
    url, title = result.get("url"), result.get("title")
    if not isinstance(url, str) or not url:
        return ""
    line = f"{title if isinstance(title, str) and title else url} — {url}"
    snippet = " ".join(str(result.get("content") or "").split())
    if len(snippet) > SNIPPET_CHARS:
        snippet = snippet[: SNIPPET_CHARS - 1].rstrip() + "…"
    return f"{line}\n   {snippet}" if snippet else line
