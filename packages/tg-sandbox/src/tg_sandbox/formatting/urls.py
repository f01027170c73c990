"""Finding URLs and e-mail addresses in plain text, after TDLib's match_urls and fix_url."""

from __future__ import annotations

import unicodedata

from tg_sandbox.formatting.tlds import COMMON_TLDS
from tg_sandbox.formatting.utf16 import ascii_lower

BAD_PATH_END = ".:;,('?!`"
_USER_DATA_STOPS = frozenset("\n/[]{}()'`<>\"@«»")
_PATH_STOPS = frozenset('\n<>"«»')


def is_separator(char: str) -> bool:
    """TDLib's UnicodeSimpleCategory::Separator: spaces and line breaks."""
    return char.isspace() or unicodedata.category(char)[0] == "Z"


def is_word_character(char: str) -> bool:
    """Letters, numbers and the underscore."""
    return char == "_" or unicodedata.category(char)[0] in "LN"


def is_ascii_word(char: str) -> bool:
    """[A-Za-z0-9_]."""
    return char == "_" or (char.isascii() and char.isalnum())


def _is_url_unicode_symbol(char: str) -> bool:
    code = ord(char)
    if 0x2000 <= code <= 0x206F:
        return code in (0x200C, 0x200D) or 0x2010 <= code <= 0x2015
    return not is_separator(char)


def is_url_path_symbol(char: str) -> bool:
    """A character that may continue a URL path."""
    return char not in _PATH_STOPS and _is_url_unicode_symbol(char)


def _is_user_data_symbol(char: str) -> bool:
    return char not in _USER_DATA_STOPS and _is_url_unicode_symbol(char)


def _is_domain_symbol(char: str) -> bool:
    if ord(char) < 0xC0:
        return char in ".-~" or is_ascii_word(char)
    return _is_url_unicode_symbol(char)


def _is_protocol_symbol(char: str) -> bool:
    if ord(char) < 0x80:
        return char in "+-" or (char.isascii() and char.isalnum())
    return not is_separator(char)


def path_end(text: str, start: int) -> int:
    """End of the path that starts at text[start] ('/', '?' or '#'), or `start` if none."""
    end = start + 1
    while end < len(text) and is_url_path_symbol(text[end]):
        end += 1
    while end > start + 1 and text[end - 1] in BAD_PATH_END:
        end -= 1
    return end if text[start] == "/" or end > start + 1 else start


def _protocol_start(text: str, begin: int, domain_begin: int) -> int | None:
    """Where the URL starts given a "scheme://" before the domain, or None for a bad scheme."""
    start = domain_begin - 3
    while start != begin and _is_protocol_symbol(text[start - 1]):
        start -= 1
    protocol = ascii_lower(text[start : domain_begin - 3])
    if protocol.endswith("http") and protocol != "shttp":
        return domain_begin - 7
    if protocol.endswith("https"):
        return domain_begin - 8
    if protocol.endswith("ftp") and protocol not in ("tftp", "sftp"):
        return domain_begin - 6
    if protocol.endswith("tonsite"):
        return domain_begin - 10
    return None


def match_urls(text: str) -> list[tuple[int, int]]:
    """Candidate URL spans (code-point indices) around each dot, as TDLib's match_urls finds."""
    result: list[tuple[int, int]] = []
    begin = 0
    size = len(text)
    while True:
        dot = text.find(".", begin)
        if dot < 0 or dot + 1 == size:
            return result
        if text[dot + 1] == " ":
            begin = dot + 2
            continue
        domain_begin = dot
        while domain_begin != begin and _is_domain_symbol(text[domain_begin - 1]):
            domain_begin -= 1
        last_at = -1
        domain_end = dot
        while domain_end < size and (
            text[domain_end] == "@" or _is_domain_symbol(text[domain_end])
        ):
            if text[domain_end] == "@":
                last_at = domain_end
            domain_end += 1
        if last_at >= 0:
            while domain_begin != begin and _is_user_data_symbol(text[domain_begin - 1]):
                domain_begin -= 1

        url_end = _port_end(text, domain_end)
        if url_end < size and text[url_end] in "/?#":
            url_end = path_end(text, url_end)
        while url_end > dot + 1 and text[url_end - 1] == ".":
            url_end -= 1

        is_bad = False
        url_begin = domain_begin
        if url_begin != begin and text[url_begin - 1] == "@":
            is_bad = last_at >= 0
            user_begin = url_begin - 1
            while user_begin != begin and _is_user_data_symbol(text[user_begin - 1]):
                user_begin -= 1
            is_bad = is_bad or user_begin == url_begin - 1
            url_begin = user_begin
        if url_begin != begin:
            prefix = text[begin:url_begin]
            if prefix.endswith("://") and len(prefix.encode("utf-8", "surrogatepass")) >= 6:
                start = _protocol_start(text, begin, url_begin)
                is_bad = is_bad or start is None
                url_begin = start if start is not None else url_begin
            elif is_word_character(text[url_begin - 1]) or text[url_begin - 1] in "/#@":
                is_bad = True

        if not is_bad:
            if url_end > dot + 1:
                result.append((url_begin, url_end))
            while url_end < size and text[url_end] == ".":
                url_end += 1
        else:
            while text[url_end - 1] != ".":
                url_end -= 1
        begin = max(url_end, dot + 1)


def _port_end(text: str, domain_end: int) -> int:
    """Extend the domain over ":port" when the port is a number up to 65535."""
    if domain_end >= len(text) or text[domain_end] != ":":
        return domain_end
    end = domain_end + 1
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    digits = text[domain_end + 1 : end].lstrip("0")
    if digits and len(digits) <= 5 and int(digits) <= 65535:
        return end
    return domain_end


def is_email_address(text: str) -> bool:
    """TDLib's is_email_address (a strict, ASCII-only e-mail shape)."""
    user, _, domain = text.partition("@")
    if not domain:
        return False
    prev = parts = 0
    for index, char in enumerate(user):
        if char in ".+":
            if index - prev >= 27:
                return False
            parts += 1
            prev = index + 1
        elif not (is_ascii_word(char) or char == "-"):
            return False
    if parts + 1 >= 12 or not 0 < len(user) - prev < 36:
        return False
    labels = domain.split(".")
    tld = labels.pop()
    if not labels or len(labels) >= 7 or not 1 < len(tld) < 9:
        return False
    if not (tld.isascii() and tld.isalpha()):
        return False
    for label in labels:
        if not label or len(label) >= 31:
            return False
        if not all(is_ascii_word(char) or char == "-" for char in label):
            return False
        if not (label[0].isalnum() and label[-1].isalnum()):
            return False
    return True


def _is_common_tld(tld: str) -> bool:
    if tld.isascii() and tld.isalpha() and tld.islower():
        return tld in COMMON_TLDS
    lowered = tld.lower()
    if lowered != tld and lowered[1:] == tld[1:]:
        return False
    return lowered in COMMON_TLDS


def _balanced_path_length(path: str) -> int:
    """How much of the path to keep: stop at an unbalanced bracket, drop trailing punctuation."""
    depth = {"(": 0, "[": 0, "{": 0}
    opening = {")": "(", "]": "[", "}": "{"}
    kept = len(path)
    for index, char in enumerate(path):
        if char in depth:
            depth[char] += 1
        elif char in opening:
            depth[opening[char]] -= 1
            if depth[opening[char]] < 0:
                kept = index
                break
    while kept > 0 and path[kept - 1] in BAD_PATH_END:
        kept -= 1
    return kept


def _is_ipv4_octet(label: str) -> bool:
    """0-255 without leading zeros."""
    if not (label.isascii() and label.isdigit()) or len(label) > 3:
        return False
    return not (len(label) >= 2 and label[0] == "0") and int(label) <= 255


def fix_url(url: str) -> str:
    """TDLib's fix_url: the part of a candidate that is a real link, or "" if none."""
    rest = url
    has_protocol = ascii_lower(url[:10]).startswith(("http://", "https://", "ftp://", "tonsite://"))
    if has_protocol:
        rest = url[url.find(":") + 3 :]
    domain_end = min([len(rest)] + [i for i in (rest.find(c) for c in "/?#") if i >= 0])
    domain, path = rest[:domain_end], rest[domain_end:]
    domain = domain[domain.find("@") + 1 :]
    if ":" in domain:
        domain = domain[: domain.rfind(":")]
    if ascii_lower(domain) == "teiegram.org":
        return ""
    full = url[: len(url) - (len(path) - _balanced_path_length(path))]

    labels = domain.split(".")
    if len(labels) == 1:
        return ""
    is_ipv4 = True
    for label in labels:
        size = len(label.encode("utf-8", "surrogatepass"))
        if size == 0 or size >= 64 or label.endswith("-"):
            return ""
        if not _is_ipv4_octet(label):
            is_ipv4 = False
    if is_ipv4 and len(labels) == 4:
        return full
    if all(label.isascii() and label.isdigit() for label in labels):
        return ""
    tld = labels[-1]
    if len(tld) <= 1:
        return ""
    if tld.startswith("xn--"):
        if len(tld) <= 5 or not (tld[4:].isascii() and tld[4:].isalnum()):
            return ""
    elif "_" in tld or "-" in tld or (not has_protocol and not _is_common_tld(tld)):
        return ""
    if "_" in labels[-2]:
        return ""
    return full
