"""read_page against a local web server on 127.0.0.2: extraction, limits, and the SSRF guard."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from magpie.tools.builtin.pages import BLOCKED, read_page
from magpie.tools.deps import ToolDeps, ToolSettings
from magpie.tools.net import tools_client
from tests.fakes.web_services import PageServer
from tests.tools.tool_deps import StatusLog, in_chat, make_deps

ONLY_THE_PAGE_SERVER = ("127.0.0.2/32",)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with tools_client() as client:  # the client Magpie's tools share
        yield client


@pytest.fixture
async def pages() -> AsyncIterator[PageServer]:
    async with PageServer() as server:
        yield server


def deps_for(
    http: httpx.AsyncClient, *, page_max_chars: int = 12_000, page_max_bytes: int = 2_000_000
) -> ToolDeps:
    """Tool deps that may reach the page server (and only it) among private addresses."""
    settings = ToolSettings(
        allowed_private_networks=ONLY_THE_PAGE_SERVER,
        page_max_chars=page_max_chars,
        page_max_bytes=page_max_bytes,
    )
    return make_deps(http, settings=settings)


async def test_article_becomes_markdown(http: httpx.AsyncClient, pages: PageServer) -> None:
    status = StatusLog()
    deps = make_deps(
        http,
        settings=ToolSettings(allowed_private_networks=ONLY_THE_PAGE_SERVER),
        status=status,
    )
    text = await read_page(deps, pages.url("/article"))

    assert text.startswith(f"Page: {pages.url('/article')}\n\n")
    assert "# Magpies are clever" in text
    assert "[recognise itself in a mirror](https://science.example/mirror)" in text
    assert "domed nests of sticks" in text
    assert "<p>" not in text and "[cut" not in text


async def test_a_site_session_of_one_person_is_not_used_for_another(
    http: httpx.AsyncClient, pages: PageServer
) -> None:
    """The tools' client is shared by everyone; a cookie one read receives must not come back
    on the next read, which may be another person's."""
    olena = deps_for(http)
    assert "You are signed in" in await read_page(olena, pages.url("/sign-in"))

    taras = in_chat(olena, -2002)
    account = await read_page(taras, pages.url("/account"))

    assert "Signed in as nobody" in account
    assert "olenas-session" not in account


async def test_long_text_is_cut_with_a_note(http: httpx.AsyncClient, pages: PageServer) -> None:
    text = await read_page(deps_for(http, page_max_chars=120), pages.url("/article"))
    body = text.split("\n\n", 1)[1]
    assert body.endswith("[cut: the page's text is longer than 120 characters]")
    assert len(body) < 120 + 60


async def test_huge_page_is_read_only_up_to_the_byte_limit(
    http: httpx.AsyncClient, pages: PageServer
) -> None:
    deps = deps_for(http, page_max_bytes=40_000, page_max_chars=100_000)
    text = await read_page(deps, pages.url("/huge"))
    assert "Paragraph 0." in text
    assert "Paragraph 3999." not in text
    assert text.endswith("[cut: only the first 40000 bytes of the page were read]")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/notes.txt", "Shopping list:\n- seeds\n- peanuts\n- насіння"),
        ("/readme.md", "# Bird feeder\n\nFill it **every** morning."),
        ("/latin1", "Un café où les pies mangent des miettes."),
    ],
)
async def test_text_pages_in_their_charset(
    http: httpx.AsyncClient, pages: PageServer, path: str, expected: str
) -> None:
    assert expected in await read_page(deps_for(http), pages.url(path))


@pytest.mark.parametrize(
    ("path", "kind"), [("/file.bin", "application/octet-stream"), ("/photo.png", "image/png")]
)
async def test_binary_content_is_refused(
    http: httpx.AsyncClient, pages: PageServer, path: str, kind: str
) -> None:
    answer = await read_page(deps_for(http), pages.url(path))
    assert answer == f"that link is not a readable page (it is {kind} content)"


async def test_empty_and_missing_pages(http: httpx.AsyncClient, pages: PageServer) -> None:
    deps = deps_for(http)
    assert await read_page(deps, pages.url("/empty")) == "that page has no readable text"
    assert await read_page(deps, pages.url("/nowhere")) == (
        "couldn't read that page: the site answered with HTTP 404"
    )


async def test_redirect_to_loopback_is_refused(http: httpx.AsyncClient, pages: PageServer) -> None:
    assert await read_page(deps_for(http), pages.url("/redirect-to-loopback")) == BLOCKED
    assert pages.secret.requests == []


@pytest.mark.parametrize("path", ["/redirect-ok", "/redirect-absolute"])
async def test_redirect_within_the_allowed_server_is_followed(
    http: httpx.AsyncClient, pages: PageServer, path: str
) -> None:
    text = await read_page(deps_for(http), pages.url(path))
    assert "Page: http://127.0.0.2:" in text
    assert ("# Corvids use tools" in text) or ("# Magpies are clever" in text)
    assert [r.path for r in pages.requests][:1] == [path]
    assert len(pages.requests) == 2


async def test_redirect_loop_stops_after_five(http: httpx.AsyncClient, pages: PageServer) -> None:
    answer = await read_page(deps_for(http), pages.url("/redirect-loop"))
    assert answer == "couldn't read that page: more than 5 redirects"
    assert len(pages.requests) == 6


async def test_private_server_is_refused_unless_allowed(
    http: httpx.AsyncClient, pages: PageServer
) -> None:
    assert await read_page(make_deps(http), pages.url("/article")) == BLOCKED
    assert pages.requests == []


INTERNAL_URLS = [
    "http://127.0.0.1/",
    "http://localhost:8080/admin",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/router",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://0.0.0.0/",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",  # the AWS metadata service over IPv6
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "https://224.0.0.1/",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
async def test_internal_addresses_are_refused_without_connecting(url: str) -> None:
    attempts: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        return httpx.Response(200, text="internal data")

    async with httpx.AsyncClient(transport=httpx.MockTransport(transport)) as client:
        assert await read_page(make_deps(client), url) == BLOCKED
    assert attempts == []


NOT_WEB = "couldn't read that page: only http and https addresses can be fetched"


@pytest.mark.parametrize(
    ("url", "answer"),
    [
        ("file:///etc/passwd", NOT_WEB),
        ("gopher://127.0.0.1:6379/", NOT_WEB),
        ("magpies.example", NOT_WEB),
        ("http:///nohost", "couldn't read that page: 'http:///nohost' has no host name"),
    ],
)
async def test_urls_that_are_not_web_addresses(
    http: httpx.AsyncClient, url: str, answer: str
) -> None:
    assert await read_page(make_deps(http), url) == answer
