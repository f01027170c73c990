"""The page reading tool: a public web page as Markdown text, fetched with the SSRF guard."""

from __future__ import annotations

import asyncio
import codecs

from magpie.tools.deps import ToolDeps
from magpie.tools.net import BlockedAddress, Fetched, FetchError, fetch_public

HTML = frozenset({"text/html", "application/xhtml+xml"})
TEXT = frozenset({"text/plain", "text/markdown", "text/x-markdown", "application/json"})
BLOCKED = "that address is not allowed (private network)"


async def read_page(deps: ToolDeps, url: str) -> str:
    """Read a web page (an http or https URL) and return its main text as Markdown."""
    settings = deps.settings
    try:
        page = await fetch_public(
            deps.http,
            url,
            max_bytes=settings.page_max_bytes,
            allowed_private=settings.allowed_private_networks,
            timeout=settings.request_timeout,
        )
    except BlockedAddress:
        return BLOCKED
    except FetchError as exc:
        return f"couldn't read that page: {exc}"
    if page.status >= 400:
        return f"couldn't read that page: the site answered with HTTP {page.status}"
    text = await _text(page)
    if text is None:
        kind = page.content_type or "unknown"
        return f"that link is not a readable page (it is {kind} content)"
    if not text.strip():
        return "that page has no readable text"
    return _capped(page, text.strip(), settings.page_max_chars)


async def _text(page: Fetched) -> str | None:
    """The page's readable text, or None when it is not text at all."""
    if page.content_type in HTML or (not page.content_type and _looks_like_html(page.body)):
        # trafilatura parses and scores the whole document: CPU work, kept off the event loop.
        return await asyncio.to_thread(_main_text, _decode(page), page.url)
    if page.content_type in TEXT or page.content_type.startswith("text/"):
        return _decode(page)
    return None


def _main_text(html: str, url: str) -> str:
    """The page's main text as Markdown; trafilatura (and lxml) load on the first page read."""
    import trafilatura

    extracted = trafilatura.extract(html, url=url, output_format="markdown", include_links=True)
    return extracted or ""


def _capped(page: Fetched, text: str, max_chars: int) -> str:
    """`text` under a line naming its URL, cut to `max_chars` with a note saying so."""
    notes = []
    if len(text) > max_chars:
        text = text[:max_chars].rstrip()
        notes.append(f"[cut: the page's text is longer than {max_chars} characters]")
    elif page.truncated:
        notes.append(f"[cut: only the first {len(page.body)} bytes of the page were read]")
    return "\n\n".join([f"Page: {page.url}", text, *notes])


def _decode(page: Fetched) -> str:
    """The body as text, in its declared charset when Python knows it, else UTF-8."""
    charset = page.charset or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    return page.body.decode(charset, errors="replace")


def _looks_like_html(body: bytes) -> bool:
    start = body[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html")) or b"<body" in start
