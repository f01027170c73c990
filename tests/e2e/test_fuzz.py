"""Fuzzing the whole path: whatever a person types, and whatever a model says, gets a reply."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import Harness
from tests.fakes.llm_vendors import FakeLLMVendors, Reply

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# what people type: any Unicode, Markdown-ish punctuation, commands, mentions, huge blobs
typed = st.one_of(
    st.text(min_size=1, max_size=300),
    st.text(alphabet="*_`[]()~|>#\\!-.@/ \n", min_size=1, max_size=200),
    st.sampled_from(["/start", "/help", "/new", "/retry", "/stop", "/unknown@magpie_bot"]),
    st.text(min_size=1, max_size=20).map(lambda s: s * 700),
)


@FUZZ
@given(text=typed)
async def test_anything_a_person_types_gets_exactly_one_answer(magpie: Harness, text: str) -> None:
    person = magpie.sandbox.add_user("Fuzz")
    sent = magpie.sandbox.people.send_text(person, magpie.account, text)
    await magpie.settled()
    answers = magpie.bot_messages(magpie.private(person), after=sent.message_id)
    if text.strip() == "/stop":
        assert [a.text for a in answers] == ["I'm not writing anything right now."]
    else:
        assert answers, f"no answer to {text!r}"
        assert all(a.text and len(a.text) <= 4096 for a in answers)


@FUZZ
@given(said=st.text(max_size=5000) | st.text(alphabet="*_`[]()~|>#\\!-\n ", max_size=3000))
async def test_anything_a_model_says_is_delivered(
    vendor_magpie: Harness, fake_vendors: FakeLLMVendors, said: str
) -> None:
    h = vendor_magpie
    fake_vendors.enqueue(*[Reply(said, chunks=4)] * 3)  # pydantic-ai may ask again if empty
    person = h.sandbox.add_user("Fuzz")
    sent_seq = h.sandbox.world.transcript.entries()[-1].seq
    sent = h.sandbox.people.send_text(person, h.account, "say something")
    await h.settled()
    answers = h.bot_messages(h.private(person), after=sent.message_id)
    assert answers
    assert all(a.text and len(a.text) <= 4096 for a in answers)
    refused = [
        (e.error, e.params.get("text", "")[:80])
        for e in h.sandbox.transcript(method="sendMessage", since=sent_seq)
        if not e.ok
    ]
    assert refused == []  # entities are always valid: never "can't parse entities"
