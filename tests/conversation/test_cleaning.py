"""Untrusted text in, text Telegram and the model can take out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from magpie.conversation.cleaning import clean_reply, clean_text, clip


def test_invisible_smuggling_characters_are_removed_but_scripts_keep_their_joiners() -> None:
    assert clean_text("pay\u200bpal \u202eevil\u202c \U000e0049\U000e0067") == "paypal evil "
    assert clean_text("👨\u200d👩\u200d👧 می\u200cخواهم") == "👨\u200d👩\u200d👧 می\u200cخواهم"


def test_a_reply_loses_control_characters_but_keeps_lines_and_tabs() -> None:
    assert clean_reply("a\x02b\x83c\r\nd\te") == "abc\nd\te"


@given(st.text())
def test_cleaning_never_grows_text_and_is_idempotent(text: str) -> None:
    once = clean_reply(text)
    assert len(once) <= len(text)
    assert clean_reply(once) == once


def test_clip_marks_what_it_cut() -> None:
    assert clip("short") == "short"
    assert clip("x" * 10, limit=4) == "xxxx …[cut]"
