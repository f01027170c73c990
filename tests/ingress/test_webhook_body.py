"""What the webhook accepts as an update body: anything else is a 400, never a crash (a 500)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from magpie.ingress.webhook import MAX_DEPTH, MAX_UPDATE_ID, MalformedUpdate, parse_body

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def nested(depth: int) -> dict[str, Any]:
    """An update whose extra field nests so that the whole body is `depth` levels deep."""
    inner: Any = []
    for _ in range(depth - 2):
        inner = [inner]
    return {"update_id": 1, "x": inner}


@given(st.binary(max_size=200))
def test_any_bytes_are_an_update_or_malformed(body: bytes) -> None:
    try:
        payload = parse_body(body)
    except MalformedUpdate:
        return
    assert isinstance(payload["update_id"], int)


@given(json_values)
def test_any_json_is_an_update_or_malformed(value: object) -> None:
    try:
        parse_body(json.dumps(value).encode())
    except MalformedUpdate:
        return
    raise AssertionError("only objects with an update_id are updates")


@given(st.integers(), st.dictionaries(st.text().filter(lambda k: k != "update_id"), json_values))
def test_an_update_id_is_accepted_exactly_when_the_inbox_can_store_it(
    update_id: int, rest: dict[str, Any]
) -> None:
    body = json.dumps(rest | {"update_id": update_id}).encode()
    if 0 <= update_id <= MAX_UPDATE_ID:
        assert parse_body(body) == rest | {"update_id": update_id}
    else:
        with pytest.raises(MalformedUpdate, match="out of range"):
            parse_body(body)


@pytest.mark.parametrize("update_id", [True, 1.0, "1", None, 2**64, -1, 2**63])
def test_update_ids_that_are_not_storable_integers_are_malformed(update_id: object) -> None:
    with pytest.raises(MalformedUpdate):
        parse_body(json.dumps({"update_id": update_id, "message": {}}).encode())


@given(st.integers(min_value=2, max_value=3 * MAX_DEPTH))
def test_nesting_is_accepted_up_to_the_limit(depth: int) -> None:
    body = json.dumps(nested(depth)).encode()
    if depth <= MAX_DEPTH:
        assert parse_body(body) == nested(depth)
    else:
        with pytest.raises(MalformedUpdate, match="nested deeper"):
            parse_body(body)


def test_nesting_too_deep_for_python_itself_is_malformed() -> None:
    body = b'{"update_id": 1, "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with pytest.raises(MalformedUpdate, match="nested deeper"):
        parse_body(body)


@given(st.text(), st.characters(categories=["Cs"]), st.booleans())
def test_text_with_a_lone_surrogate_is_malformed(text: str, surrogate: str, in_key: bool) -> None:
    """JSON can escape one (\\ud800); UTF-8 cannot hold it, so it could not be stored."""
    odd = text + surrogate
    update = {"update_id": 1, "message": {odd: 1} if in_key else {"text": odd}}
    with pytest.raises(MalformedUpdate, match="surrogate"):
        parse_body(json.dumps(update).encode())
