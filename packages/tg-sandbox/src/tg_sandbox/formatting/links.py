"""Link checks TDLib applies to text links: URL parsing, tg://user mentions, tg://emoji ids."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from tg_sandbox.formatting.entity import MAX_USER_ID
from tg_sandbox.formatting.errors import EntityParseError
from tg_sandbox.formatting.utf16 import ascii_lower, exact_int

_HOST_PUNCTUATION = frozenset(".-_!$,~*'();&+=")
_QUERY_SPACE = frozenset(" \t\r\n\0\v\f")
_HEX = frozenset("0123456789abcdef")


class LinkError(Exception):
    """A link TDLib refuses; str() is TDLib's reason, e.g. "Wrong HTTP URL"."""


@dataclass(frozen=True, slots=True)
class HttpUrl:
    """A parsed http(s) URL as td::parse_url sees it."""

    https: bool
    userinfo: str
    host: str
    is_ipv6: bool
    specified_port: int
    query: str

    def url(self) -> str:
        """The normalised URL TDLib stores (HttpUrl::get_url)."""
        port = f":{self.specified_port}" if self.specified_port > 0 else ""
        userinfo = f"{self.userinfo}@" if self.userinfo else ""
        scheme = "https://" if self.https else "http://"
        return f"{scheme}{userinfo}{self.host}{port}{self.query}"


def _find_any(text: str, stops: str) -> int:
    return next((index for index, char in enumerate(text) if char in stops), len(text))


def parse_url(url: str) -> HttpUrl:
    """td::parse_url with http as the default protocol."""
    protocol_end = _find_any(url, ":/?#@[]")
    https = False
    rest = url
    if url.startswith("://", protocol_end):
        protocol = ascii_lower(url[:protocol_end])
        if protocol not in ("http", "https"):
            raise LinkError("Unsupported URL protocol")
        https = protocol == "https"
        rest = url[protocol_end + 3 :]
    authority_end = _find_any(rest, "/?#")
    authority, query = rest[:authority_end], rest[authority_end:]

    port = 0
    colon = len(authority) - 1
    while colon > 0 and authority[colon] not in ":]@":
        colon -= 1
    userinfo_host = authority
    if colon > 0 and authority[colon] == ":":
        port_text = authority[colon + 1 :]
        while len(port_text) > 1 and port_text[0] == "0":
            port_text = port_text[1:]
        parsed_port = exact_int(port_text, 32)
        port = parsed_port or -1
        userinfo_host = authority[:colon]
    if port < 0 or port > 65535:
        raise LinkError("Wrong port number specified in the URL")

    at = userinfo_host.rfind("@")
    userinfo = userinfo_host[:at] if at >= 0 else ""
    host = userinfo_host[at + 1 :]
    is_ipv6 = bool(host) and host[0] == "[" and host[-1] == "]"
    if is_ipv6:
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise LinkError("Wrong IPv6 address specified in the URL") from None
    if not host:
        raise LinkError("URL host is empty")
    if host == ".":
        raise LinkError("Host is invalid")

    query = query.rstrip("".join(_QUERY_SPACE)) or "/"
    encoded = "" if query[0] == "/" else "/"
    encoded += "".join(f"%{ord(char):02X}" if ord(char) <= 0x20 else char for char in query)
    host = ascii_lower(host)
    _check_host(host, is_ipv6)
    return HttpUrl(https, userinfo, host, is_ipv6, port, encoded)


def _check_host(host: str, is_ipv6: bool) -> None:
    index = 0
    while index < len(host):
        char = host[index]
        if is_ipv6:
            if index in (0, len(host) - 1) or char in ":." or char in _HEX:
                index += 1
                continue
            raise LinkError("Wrong IPv6 URL host")
        if ("a" <= char <= "z") or ("0" <= char <= "9") or char in _HOST_PUNCTUATION:
            index += 1
            continue
        if char == "%":
            if host[index + 1 : index + 2] in _HEX and host[index + 2 : index + 3] in _HEX:
                index += 3
                continue
            raise LinkError("Wrong percent-encoded symbol in URL host")
        if ord(char) >= 128:
            index += 1
            continue
        raise LinkError("Wrong URL host")


def check_link(link: str) -> str:
    """LinkManager::check_link: the normalised link, or LinkError with TDLib's reason."""
    scheme = ""
    lowered = ascii_lower(link)
    for candidate in ("tg", "ton", "tonsite"):
        if lowered.startswith(candidate + ":"):
            scheme = candidate
            link = link[len(candidate) + 1 :]
            break
    if scheme and link.startswith("//"):
        link = link[2:]
    url = parse_url(link)
    if scheme:
        if (
            ascii_lower(link).startswith("http://")
            or url.https
            or url.userinfo
            or url.specified_port
            or url.is_ipv6
        ):
            raise LinkError("Wrong tg URL" if scheme == "tg" else "Wrong ton URL")
        query = url.query[1:] if url.query[1:2] == "?" else url.query
        for char in url.host:
            allowed = char.isascii() and (char.isalnum() or char in "-_")
            if not allowed and not (scheme == "tonsite" and char == "."):
                raise LinkError("Unallowed characters in URL host")
        return f"{scheme}://{url.host}{query}"
    if "." not in url.host and not url.is_ipv6:
        raise LinkError("Wrong HTTP URL")
    return url.url()


def checked_link(link: str) -> str:
    """LinkManager::get_checked_link: the normalised link, or "" when TDLib refuses it."""
    try:
        return check_link(link)
    except LinkError:
        return ""


def _tg_query(url: str, host: str) -> str | None:
    """The query of a tg://<host>?... link (after '?', before '#'), or None for other links."""
    rest = ascii_lower(url)
    if not rest.startswith("tg:"):
        return None
    rest = rest[3:]
    if rest.startswith("//"):
        rest = rest[2:]
    if not rest.startswith(host):
        return None
    rest = rest[len(host) :]
    if rest.startswith("/"):
        rest = rest[1:]
    if not rest.startswith("?"):
        return None
    return rest[1:].split("#", 1)[0]


def _parameter(query: str, name: str) -> str | None:
    for parameter in query.split("&"):
        key, _, value = parameter.partition("=")
        if key == name:
            return value
    return None


def link_user_id(url: str) -> int:
    """The user a tg://user?id=N link mentions, or 0 (LinkManager::get_link_user_id)."""
    query = _tg_query(url, "user")
    value = _parameter(query, "id") if query is not None else None
    user_id = exact_int(value, 64) if value is not None else None
    return user_id if user_id is not None and 0 < user_id <= MAX_USER_ID else 0


def link_custom_emoji_id(url: str) -> str:
    """The id of a tg://emoji?id=N link, or EntityParseError with TDLib's message."""
    lowered = ascii_lower(url)
    if not lowered.startswith("tg:"):
        raise EntityParseError("Custom emoji URL must have scheme tg")
    rest = lowered[3:]
    if rest.startswith("//"):
        rest = rest[2:]
    if not rest.startswith("emoji") or rest[5:6] not in ("", "/", "?", "#"):
        raise EntityParseError('Custom emoji URL must have host "emoji"')
    query = _tg_query(url, "emoji")
    value = _parameter(query, "id") if query is not None else None
    if value is None:
        raise EntityParseError("Custom emoji URL must have an emoji identifier")
    emoji_id = exact_int(value, 64)
    if not emoji_id:
        raise EntityParseError("Invalid custom emoji identifier specified")
    return str(emoji_id)


def is_time_link(url: str) -> bool:
    """Whether the URL is a tg://time link, the MarkdownV2 spelling of a date_time entity."""
    return _tg_query(url, "time") is not None


def link_time(url: str) -> tuple[int, str]:
    """(unix time, format) of a tg://time?unix=N&format=F link; unix 0 when missing or invalid."""
    query = _tg_query(url, "time") or ""
    unix = exact_int(_parameter(query, "unix") or "", 32) or 0
    return max(unix, 0), _parameter(query, "format") or ""


def date_time_format(text: str) -> str:
    """TDLib's get_date_flags, written back in the Bot API's order: "r" or w?[dD]?[tT]?."""
    if text in ("r", "R"):
        return "r"
    if any(char not in "tTdDwW" for char in text):
        raise EntityParseError("Invalid date format used")
    week = "w" if "w" in text or "W" in text else ""
    date = "d" if "d" in text else "D" if "D" in text else ""
    time = "t" if "t" in text else "T" if "T" in text else ""
    return week + date + time
