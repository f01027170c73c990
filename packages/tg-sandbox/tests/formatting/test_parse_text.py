"""The public entry point: parse modes, plain text, lengths and error descriptions."""

from __future__ import annotations

import pytest

from tg_sandbox.formatting import (
    EntityParseError,
    UnsupportedParseMode,
    parse_text,
    text_length,
    utf16_len,
)


@pytest.mark.parametrize("mode", [None, "", "none", "NONE"])
def test_plain_text_modes_parse_nothing(mode: str | None) -> None:
    assert parse_text("*not* <b>bold</b>", mode) == ("*not* <b>bold</b>", [])


@pytest.mark.parametrize("mode", ["HTML", "html", "Html", "MARKDOWNV2", "markdownV2", "markdown"])
def test_parse_mode_is_case_insensitive(mode: str) -> None:
    assert parse_text("x", mode) == ("x", [])


def test_unsupported_parse_mode() -> None:
    with pytest.raises(UnsupportedParseMode) as raised:
        parse_text("hello", "XML")
    assert raised.value.description == "Bad Request: unsupported parse_mode"


def test_unsupported_parse_mode_is_not_noticed_for_empty_text() -> None:
    assert parse_text("", "XML") == ("", [])


def test_parse_error_description_keeps_tdlibs_capital() -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_text("*x", "Markdown")
    assert raised.value.description == (
        "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 0"
    )


def test_lengths() -> None:
    assert utf16_len("a🏟é") == 4
    assert text_length("a🏟é") == 3
    assert text_length("") == utf16_len("") == 0
