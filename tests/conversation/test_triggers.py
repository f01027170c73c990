"""When Magpie answers: private always; groups only when addressed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from magpie.conversation.triggers import Trigger, why_answer
from magpie.conversation.types import Addressing, ConversationKey, Identity, Incoming, Speaker

ME = Identity(id=42, username="magpie_bot", aliases=("magpie", "сорока"))


def said(
    text: str,
    *,
    chat_type: str = "supergroup",
    addressing: Addressing | None = None,
    bot: bool = False,
) -> Incoming:
    return Incoming(
        key=ConversationKey(-100 if chat_type != "private" else 7),
        message_id=1,
        chat_type=chat_type,  # type: ignore[arg-type]
        speaker=Speaker(7, "Ann", is_bot=bot),
        text=text,
        sent_at=datetime(2026, 1, 1, tzinfo=UTC),
        addressing=addressing or Addressing(),
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (said("hi", chat_type="private"), Trigger.PRIVATE),
        (said("hi"), None),
        (
            said("@magpie_bot hi", addressing=Addressing(mentions=frozenset({"magpie_bot"}))),
            Trigger.MENTION,
        ),
        (said("hi", addressing=Addressing(mentioned_ids=frozenset({42}))), Trigger.MENTION),
        (said("sure", addressing=Addressing(replies_to_bot=True)), Trigger.REPLY),
        (said("Magpie, what now?"), Trigger.NAME),
        (said("сорока, привіт"), Trigger.NAME),
        (said("magpies are birds"), None),
        (said("email me at x@magpie.org"), None),
        (said("/new", addressing=Addressing(command="new")), Trigger.COMMAND),
        (
            said(
                "/new@magpie_bot", addressing=Addressing(command="new", command_target="magpie_bot")
            ),
            Trigger.COMMAND,
        ),
        (
            said(
                "/new@other_bot", addressing=Addressing(command="new", command_target="other_bot")
            ),
            None,
        ),
        (said("@other_bot hi", addressing=Addressing(mentions=frozenset({"other_bot"}))), None),
        (said("magpie, hi", bot=True), None),
    ],
)
def test_when_to_answer(message: Incoming, expected: Trigger | None) -> None:
    assert why_answer(message, ME) == expected


@given(st.text(max_size=200))
def test_private_chats_always_get_an_answer(text: str) -> None:
    assert why_answer(said(text, chat_type="private"), ME) is Trigger.PRIVATE


@given(st.text(alphabet=st.characters(blacklist_characters="mMаА"), max_size=200))
def test_group_text_without_the_name_never_triggers(text: str) -> None:
    assert why_answer(said(text), ME) is None
