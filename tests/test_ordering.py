"""Which updates skip their chat's queue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.types import Chat, Message, Update

from magpie.ingress.ordering import chat_of, is_urgent


def update_with(text: str | None) -> Update:
    message = Message(
        message_id=1,
        date=datetime(2026, 1, 1, tzinfo=UTC),
        chat=Chat(id=5, type="private"),
        text=text,
    )
    return Update(update_id=1, message=message)


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("/stop", True),
        ("/STOP@Magpie_Bot", True),
        ("/stop@other_bot", False),
        ("/stopwatch", False),
        ("stop", False),
        ("   ", False),
        ("", False),
        (None, False),
    ],
)
def test_only_stop_requests_skip_the_queue(text: str | None, urgent: bool) -> None:
    assert is_urgent(update_with(text), "magpie_bot") is urgent
    assert chat_of(update_with(text)) == 5
