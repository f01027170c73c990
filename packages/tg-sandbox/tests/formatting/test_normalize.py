"""fix_formatted_text: trimming, cleaning, dropping, splitting and sorting entities."""

from __future__ import annotations

import pytest

from tg_sandbox.formatting import InvalidEntitiesError, is_blank, normalize, parse_text


def ent(kind: str, offset: int, length: int) -> dict[str, object]:
    return {"type": kind, "offset": offset, "length": length}


def test_surrounding_whitespace_is_trimmed_and_entities_shift() -> None:
    assert parse_text("  \n <b>hi</b> there \n ", "HTML") == ("hi there", [ent("bold", 0, 2)])


def test_leading_whitespace_inside_the_first_entity_is_kept() -> None:
    assert parse_text("<b>  hi</b>", "HTML") == ("  hi", [ent("bold", 0, 4)])


def test_entities_are_clipped_at_the_trimmed_end_and_dropped_past_it() -> None:
    assert normalize("ab   ", [ent("bold", 0, 5), ent("italic", 3, 2)]) == (
        "ab",
        [ent("bold", 0, 2)],
    )


def test_empty_entities_are_dropped() -> None:
    assert parse_text("<b></b>x<i></i>", "HTML") == ("x", [])
    assert normalize("abc", [ent("bold", 1, 0)]) == ("abc", [])


def test_control_characters_become_spaces_and_carriage_returns_vanish() -> None:
    assert normalize("a\tb\r\nc\x00d\u2028e", []) == ("a b\nc de", [])
    assert normalize("a\rbc\r", [ent("italic", 0, 1), ent("bold", 0, 2), ent("bold", 3, 2)]) == (
        "abc",
        [ent("bold", 0, 1), ent("italic", 0, 1), ent("bold", 2, 1)],
    )


def test_runs_of_direction_marks_keep_only_the_last() -> None:
    assert normalize("a \u200f\u200f\u200e b", []) == ("a \u200c\u200c\u200e b", [])


def test_sorted_by_offset_then_longer_first_then_type_priority() -> None:
    link = {"type": "text_link", "offset": 2, "length": 3, "url": "http://a.com/"}
    given = [
        ent("underline", 2, 3),
        ent("italic", 2, 3),
        ent("bold", 2, 3),
        link,
        ent("bold", 0, 1),
    ]
    assert normalize("abcde", given) == (
        "abcde",
        [ent("bold", 0, 1), link, ent("bold", 2, 3), ent("italic", 2, 3), ent("underline", 2, 3)],
    )


def test_styles_are_cut_around_code_and_dropped_inside_it() -> None:
    given = [ent("italic", 2, 1), ent("bold", 0, 6), ent("code", 2, 1)]
    assert normalize("abcdef", given) == (
        "abcdef",
        [ent("bold", 0, 2), ent("code", 2, 1), ent("bold", 3, 3)],
    )


def test_touching_and_overlapping_entities_of_one_type_merge() -> None:
    assert normalize("abc", [ent("italic", 0, 2), ent("italic", 2, 1)]) == (
        "abc",
        [ent("italic", 0, 3)],
    )
    assert normalize("abc", [ent("italic", 0, 2), ent("italic", 1, 2)]) == (
        "abc",
        [ent("italic", 0, 3)],
    )


def test_overlapping_bold_and_italic_are_split_into_nested_pieces() -> None:
    assert normalize("abc", [ent("italic", 0, 2), ent("bold", 1, 2)]) == (
        "abc",
        [ent("italic", 0, 1), ent("bold", 1, 2), ent("italic", 1, 1)],
    )


def test_styles_inside_pre_are_removed_and_cut_around_it() -> None:
    assert normalize("abc", [ent("pre", 0, 3), ent("strikethrough", 1, 1)]) == (
        "abc",
        [ent("pre", 0, 3)],
    )
    assert normalize("abc", [ent("pre", 1, 1), ent("strikethrough", 0, 3)]) == (
        "abc",
        [ent("strikethrough", 0, 1), ent("pre", 1, 1), ent("strikethrough", 2, 1)],
    )


def test_crossing_links_keep_the_first() -> None:
    links = [
        {"type": "text_link", "offset": 0, "length": 3, "url": "http://a.com/"},
        {"type": "text_link", "offset": 2, "length": 3, "url": "http://b.com/"},
    ]
    assert normalize("abcdef", links) == ("abcdef", links[:1])


def test_blank_text_comes_back_empty() -> None:
    assert parse_text(" \n <b> </b>\n", "HTML") == ("", [])
    assert parse_text("\u200b\u3000", None) == ("", [])
    assert is_blank("\u2800 \n") and not is_blank(" a ")


def test_utf16_offsets_after_cleaning_with_emoji() -> None:
    text = "🏟\r🏟 x"
    assert normalize(text, [ent("bold", 3, 2)]) == ("🏟🏟 x", [ent("bold", 2, 2)])


@pytest.mark.parametrize(
    ("entity", "message"),
    [
        (
            ent("bold", 0, 100),
            "Entity beginning at UTF-16 offset 0 ends after the end of the text "
            "at UTF-16 offset 100",
        ),
        (ent("bold", 9, 1), "Entity begins after the end of the text at UTF-16 offset 9"),
        (ent("bold", 1, 1), "Entity begins in a middle of a UTF-16 symbol at byte offset 4"),
        (
            ent("bold", 0, 1),
            "Entity beginning at UTF-16 offset 0 ends in a middle of a UTF-16 symbol "
            "at byte offset 4",
        ),
        (ent("bold", -1, 1), "Receive an entity with incorrect offset -1"),
        (ent("bold", 0, -2), "Receive an entity with incorrect length -2"),
    ],
)
def test_entities_that_do_not_fit_the_text(entity: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidEntitiesError) as raised:
        normalize("🏟 ab", [entity])
    assert str(raised.value) == message
    assert raised.value.description == "Bad Request: " + message[0].lower() + message[1:]
