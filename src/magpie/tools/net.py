"""Fetching URLs the model chose without letting it reach the bot's own network (SSRF)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_REDIRECTS = 5
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def tools_client() -> httpx.AsyncClient:
    """The HTTP client tools share (never used for Telegram or the model vendors).

    Shared by every person's tool calls, so it must carry nothing from one call to the next: it
    keeps no cookies (a site's session for one person must not be sent on another's behalf),
    ignores environment proxies (they would sit between the SSRF check and the site) and never
    follows redirects on its own (page reading follows them itself, re-checking each address).
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(15.0, connect=5.0),
        follow_redirects=False,
        trust_env=False,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        headers={"User-Agent": "Magpie (Telegram assistant)"},
    )


class FetchError(Exception):
    """A URL could not be fetched; the message says why in plain words."""


class BlockedAddress(FetchError):
    """The URL leads to a private, loopback or otherwise internal address."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched response: where it ended up, what it is, and at most `max_bytes` of its body."""

    status: int
    url: str
    content_type: str  # media type only, lower case: "text/html"
    charset: str | None
    body: bytes
    truncated: bool


def is_public(address: IPAddress) -> bool:
    """Whether an address is ordinary global unicast, i.e. somewhere on the public internet."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address in _SHARED
    )


def is_permitted(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> bool:
    """Whether page reading may connect to `address`: public, or inside an allowed network."""
    if is_public(address):
        return True
    embedded = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    candidates: list[IPAddress] = [address] if embedded is None else [address, embedded]
    networks = tuple(allowed)
    return any(candidate in network for candidate in candidates for network in networks)


async def resolve_permitted(host: str, port: int, allowed: Iterable[IPNetwork] = ()) -> IPAddress:
    """The address to connect to for `host`, refusing it if ANY of its addresses is internal."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"the host name {host!r} could not be resolved") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    networks = list(allowed)
    if not addresses or not all(is_permitted(a, networks) for a in addresses):
        raise BlockedAddress(f"{host} leads to a private or internal address")
    return addresses[0]


async def fetch_public(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    allowed_private: tuple[str, ...] = (),
    timeout: float,  # noqa: ASYNC109 (a whole-fetch deadline, also each request's httpx timeout)
) -> Fetched:
    """GET a public http(s) URL, checking every hop's addresses and reading at most `max_bytes`."""
    allowed = [ipaddress.ip_network(cidr, strict=False) for cidr in allowed_private]
    try:
        async with asyncio.timeout(timeout):
            return await _follow(client, _parse(url), max_bytes, allowed, timeout)
    except TimeoutError as exc:
        raise FetchError(f"no answer within {timeout:g} seconds") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"the site could not be reached ({type(exc).__name__})") from exc


async def _follow(
    client: httpx.AsyncClient,
    target: httpx.URL,
    max_bytes: int,
    allowed: list[IPNetwork],
    request_timeout: float,
) -> Fetched:
    """Fetch `target`, following redirects by hand so each new host is checked before use."""
    for _ in range(MAX_REDIRECTS + 1):
        address = await resolve_permitted(target.raw_host.decode("ascii"), _port(target), allowed)
        request = _pinned(client, target, address, request_timeout)
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            location = response.headers.get("location")
            if response.is_redirect and location:
                target = _parse(location, base=target)
                continue
            body, truncated = await _read_capped(response, max_bytes)
        finally:
            await response.aclose()
        media_type, _, _ = response.headers.get("content-type", "").partition(";")
        return Fetched(
            status=response.status_code,
            url=str(target),
            content_type=media_type.strip().lower(),
            charset=response.charset_encoding,
            body=body,
            truncated=truncated,
        )
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _pinned(
    client: httpx.AsyncClient, target: httpx.URL, address: IPAddress, timeout: float
) -> httpx.Request:
    """A request to the checked address (no second DNS lookup) that still names `target`'s host."""
    # HTTP keeps the original Host header. HTTPS also sends the original name as SNI, and httpcore
    # verifies the certificate against that name, so TLS still proves we talk to the named site.
    # httpx pools connections by URL, i.e. by IP here: "Connection: close" keeps a connection
    # verified for one name from serving another name that resolves to the same address.
    extensions = (
        {"sni_hostname": target.raw_host.decode("ascii")} if target.scheme == "https" else {}
    )
    headers = {
        "Host": target.netloc.decode("ascii"),
        "Connection": "close",
        "Accept-Encoding": "identity",  # a small gzip body must not inflate far past max_bytes
    }
    return client.build_request(
        "GET",
        target.copy_with(host=str(address)),
        headers=headers,
        timeout=timeout,
        extensions=extensions,
    )


async def _read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """The body up to `max_bytes`, and whether there was more."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            return bytes(body[:max_bytes]), True
    return bytes(body), False


def _parse(url: str, *, base: httpx.URL | None = None) -> httpx.URL:
    """An absolute http(s) URL with a host (relative to `base` if given), or FetchError."""
    try:
        parsed = base.join(url) if base is not None else httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise FetchError(f"{url!r} is not a valid URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchError("only http and https addresses can be fetched")
    if not parsed.host:
        raise FetchError(f"{url!r} has no host name")
    return parsed


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4), which is what gets reached."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour
