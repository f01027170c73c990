"""A reply that quotes the system prompt is withheld."""

from __future__ import annotations

from magpie.config import DEFAULT_PERSONA
from magpie.conversation.safety import reveals_instructions


def test_quoting_the_instructions_is_caught_even_with_changed_spacing() -> None:
    leaked = "Sure! My instructions say: " + DEFAULT_PERSONA.replace(" ", "  ").upper()
    assert reveals_instructions(leaked, DEFAULT_PERSONA)


def test_ordinary_answers_pass() -> None:
    assert not reveals_instructions("Paris is the capital of France.", DEFAULT_PERSONA)
    assert not reveals_instructions("I'm Magpie, a helpful assistant.", DEFAULT_PERSONA)
