"""The SSRF guard: which addresses are refused, DNS answers checked and pinned, TLS kept intact."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from magpie.tools.net import (
    BlockedAddress,
    Fetched,
    FetchError,
    fetch_public,
    is_permitted,
    is_public,
    resolve_permitted,
)
from tests.fakes.web_services import PageServer

BLOCKED_NETWORKS = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/29", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
    "::/128", "::1/128", "::ffff:10.0.0.0/104", "::ffff:127.0.0.0/104", "::ffff:169.254.0.0/112",
    "64:ff9b::a00:0/104", "64:ff9b::7f00:0/104", "2002:7f00::/24", "2002:a9fe::/32",
    "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32", "100::/64",
]  # fmt: skip
PUBLIC_NETWORKS = [
    "1.1.1.0/24", "8.0.0.0/8", "9.9.9.0/24", "31.0.0.0/8", "93.184.0.0/16", "151.101.0.0/16",
    "185.0.0.0/8", "2001:4860::/32", "2606:4700::/32", "2a00:1450::/32", "::ffff:8.8.8.0/120",
]  # fmt: skip


def addresses_in(
    networks: list[str],
) -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return st.sampled_from(networks).flatmap(lambda net: st.ip_addresses(network=net))


@given(addresses_in(BLOCKED_NETWORKS))
def test_internal_addresses_are_refused(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    assert not is_public(address)
    assert not is_permitted(address)


@given(addresses_in(PUBLIC_NETWORKS))
def test_public_addresses_pass(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    assert is_public(address)


@given(st.ip_addresses())
def test_nothing_public_is_special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if is_public(address):
        assert not (address.is_loopback or address.is_link_local or address.is_multicast)
        assert not (address.is_unspecified or address in ipaddress.ip_network("100.64.0.0/10"))
        if not (isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped):
            assert address.is_global and not address.is_private


@given(st.ip_addresses(v=4))
def test_mapped_ipv6_is_judged_by_its_ipv4(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert is_public(mapped) == is_public(address)


def test_allowed_networks_open_exactly_themselves() -> None:
    allowed = [ipaddress.ip_network("127.0.0.2/32"), ipaddress.ip_network("fd00:1::/64")]
    assert is_permitted(ipaddress.ip_address("127.0.0.2"), allowed)
    assert is_permitted(ipaddress.ip_address("::ffff:127.0.0.2"), allowed)
    assert is_permitted(ipaddress.ip_address("fd00:1::5"), allowed)
    assert not is_permitted(ipaddress.ip_address("127.0.0.1"), allowed)
    assert not is_permitted(ipaddress.ip_address("fd00:2::5"), allowed)


# --- DNS answers, with a resolver we control ---


@pytest.fixture
async def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names resolved by the test; anything else goes to the real resolver (IP literals)."""
    answers: dict[str, list[str]] = {}
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host in answers:
            family = {4: socket.AF_INET, 6: socket.AF_INET6}
            return [
                (family[ipaddress.ip_address(a).version], socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]
            ]
        if isinstance(host, str) and host.endswith(".test"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return await real(host, port, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return answers


async def test_a_name_with_any_internal_address_is_refused(dns: dict[str, list[str]]) -> None:
    dns["mixed.test"] = ["93.184.216.34", "10.0.0.7"]
    with pytest.raises(BlockedAddress):
        await resolve_permitted("mixed.test", 80)
    dns["public.test"] = ["93.184.216.34", "2606:2800:220:1::1"]
    assert str(await resolve_permitted("public.test", 80)) == "93.184.216.34"


async def test_unknown_host_is_a_fetch_error(dns: dict[str, list[str]]) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        with pytest.raises(FetchError, match="could not be resolved"):
            await fetch_public(client, "http://nowhere.test/", max_bytes=100, timeout=5)


async def fetch(
    client: httpx.AsyncClient, url: str, *, max_bytes: int = 100_000, deadline: float = 5.0
) -> Fetched:
    """fetch_public as page reading calls it, allowed to reach the page server only."""
    return await fetch_public(
        client, url, max_bytes=max_bytes, allowed_private=("127.0.0.2/32",), timeout=deadline
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


async def test_http_connects_to_the_checked_address_with_the_original_host(
    dns: dict[str, list[str]], http: httpx.AsyncClient
) -> None:
    async with PageServer() as pages:
        dns["birds.test"] = ["127.0.0.2"]
        page = await fetch(http, f"http://birds.test:{pages.port}/redirect-ok")
    assert page.status == 200 and page.url == f"http://birds.test:{pages.port}/second-article"
    assert [r.host for r in pages.requests] == [f"birds.test:{pages.port}"] * 2


async def test_https_is_pinned_and_still_verified_against_the_name(
    dns: dict[str, list[str]], tmp_path: Path
) -> None:
    pytest.importorskip("cryptography")  # locked (via google-auth), used only to make a cert
    from tests.tools.certificates import self_signed

    server_tls, client_tls = self_signed("birds.test", tmp_path)
    dns["birds.test"] = dns["impostor.test"] = ["127.0.0.2"]
    async with (
        PageServer(ssl_context=server_tls) as pages,
        httpx.AsyncClient(verify=client_tls, trust_env=False) as client,
    ):
        page = await fetch(client, f"https://birds.test:{pages.port}/article")
        assert page.status == 200 and b"Magpies are clever" in page.body
        # Same address, other name: the certificate does not match, so the fetch fails.
        with pytest.raises(FetchError):
            await fetch(client, f"https://impostor.test:{pages.port}/article")
    assert [r.host for r in pages.requests] == [f"birds.test:{pages.port}"]


async def test_body_stops_at_max_bytes(http: httpx.AsyncClient) -> None:
    async with PageServer() as pages:
        page = await fetch(http, pages.url("/huge"), max_bytes=10_000)
    assert page.truncated and len(page.body) == 10_000
    assert page.content_type == "text/html" and page.charset == "utf-8"


async def test_a_silent_server_times_out(http: httpx.AsyncClient) -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.2", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(FetchError, match=r"no answer within 0\.05 seconds"):
            await fetch(http, f"http://127.0.0.2:{port}/", deadline=0.05)
    finally:
        release.set()
        server.close()
        await server.wait_closed()
