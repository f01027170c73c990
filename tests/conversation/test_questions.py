"""A question about a tool call: asked once, answerable by its asker only, closed once — by the
answer, by /stop or /new, or when its time runs out — and the paused run goes on from storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from magpie.conversation.cleaning import clean_reply
from magpie.conversation.clock import Clock
from magpie.conversation.memory import (
    MemoryApprovals,
    MemoryConversationStore,
    MemoryPreferences,
)
from magpie.conversation.ports import TextSink
from magpie.conversation.questions import question_text
from magpie.conversation.running import RunningTurns
from magpie.conversation.turn import Answer, Assistant, TurnSettings
from magpie.conversation.types import (
    ApprovalStatus,
    Caller,
    Completion,
    ConversationKey,
    Identity,
    Incoming,
    Outcome,
    Parked,
    Preferences,
    Prompt,
    Speaker,
)
from magpie.telegram.formatting import render_markdown
from magpie.texts import ENGLISH

KEY = ConversationKey(-100, 7)
ANN = Speaker(1, "Ann")
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PARKED = Parked(tool="save_note", arguments={"text": "keys under the mat"}, state="{}", model="m")


class ParkingModel:
    """A Model double: asks to save a note, then reports what it was told on resume."""

    name = "m"

    def __init__(self) -> None:
        self.resumed: list[bool] = []

    async def complete(
        self,
        prompt: Prompt,
        *,
        caller: Caller,
        preferences: Preferences,
        on_text: TextSink,
        on_status: TextSink,
    ) -> Completion:
        return Completion(text="", model="m", parked=PARKED)

    async def resume(
        self,
        parked: Parked,
        *,
        allowed: bool,
        caller: Caller,
        preferences: Preferences,
        on_text: TextSink,
        on_status: TextSink,
    ) -> Completion:
        self.resumed.append(allowed)
        return Completion(text="Saved." if allowed else "Not saved.", model="m")


@dataclass
class Channel:
    """A ReplyChannel double that remembers what was delivered and with which question."""

    finished: list[tuple[str, int | None]] = field(default_factory=list)
    next_id: int = 500

    async def thinking(self) -> None:
        return None

    async def progress(self, text: str) -> None:
        return None

    async def status(self, text: str) -> None:
        return None

    async def finish(self, text: str, *, ask: int | None = None) -> list[tuple[int, str]]:
        self.finished.append((text, ask))
        self.next_id += 1
        return [(self.next_id, text)]


@dataclass
class Board:
    """The Questions port: what each question was edited to."""

    settled: dict[int, list[str]] = field(default_factory=dict)

    async def settle(self, key: ConversationKey, message_id: int, text: str) -> str:
        self.settled.setdefault(message_id, []).append(text)
        return text


@dataclass
class World:
    assistant: Assistant
    approvals: MemoryApprovals
    board: Board
    model: ParkingModel
    store: MemoryConversationStore
    times: list[datetime]

    def later(self, seconds: float) -> None:
        self.times.append(self.times[-1] + timedelta(seconds=seconds))


def world() -> World:
    times = [START]
    approvals, board, model = MemoryApprovals(), Board(), ParkingModel()
    store = MemoryConversationStore()
    assistant = Assistant(
        store=store,
        preferences=MemoryPreferences(),
        approvals=approvals,
        questions=board,
        model=model,
        identity=Identity(id=99, username="magpie_bot"),
        settings=TurnSettings(persona="You are Magpie.", context_tokens=4000, question_seconds=60),
        count=len,
        running=RunningTurns(),
        texts=ENGLISH,
        clock=Clock(now=lambda: times[-1]),
    )
    return World(assistant, approvals, board, model, store, times)


def asked(text: str = "remember that the keys are under the mat", message_id: int = 10) -> Incoming:
    return Incoming(
        key=KEY, message_id=message_id, chat_type="private", speaker=ANN, text=text, sent_at=START
    )


async def ask(w: World, channel: Channel | None = None) -> int:
    record = await w.assistant.on_message(asked(), channel or Channel())
    assert record is not None and record.outcome is Outcome.WAITING
    (approval,) = await w.approvals.pending_in(KEY)
    return approval.id


async def test_a_turn_that_needs_a_yes_ends_with_the_question_and_buttons() -> None:
    w, channel = world(), Channel()
    approval_id = await ask(w, channel)
    ((text, ask_id),) = channel.finished
    assert ask_id == approval_id
    assert text == "Ann, may I use the `save_note` tool with this?\n> keys under the mat"
    stored = await w.approvals.get(approval_id)
    assert stored is not None
    assert stored.question_message_id == 501 and stored.question == text
    assert stored.expires_at == START + timedelta(seconds=60)
    # the conversation remembers the question, so later turns know a request is pending
    assert [line.text for line in await w.store.history(KEY, limit=10)][-1] == text


async def test_only_the_asker_answers_and_only_once() -> None:
    w = world()
    approval_id = await ask(w)
    bob = await w.assistant.claim(approval_id, user_id=2, allow=True)
    assert (bob.answer, bob.owner, bob.approval) == (Answer.NOT_YOURS, "Ann", None)
    first = await w.assistant.claim(approval_id, user_id=1, allow=True)
    again = await w.assistant.claim(approval_id, user_id=1, allow=False)
    assert first.answer is Answer.ACCEPTED and again.answer is Answer.EXPIRED
    assert w.board.settled == {501: [f"{first.approval.question}\n\n_Allowed by Ann._"]}  # type: ignore[union-attr]


async def test_the_answer_resumes_the_paused_run_and_closes_the_question() -> None:
    w, channel = world(), Channel()
    approval_id = await ask(w)
    claim = await w.assistant.claim(approval_id, user_id=1, allow=False)
    assert claim.approval is not None
    record = await w.assistant.resume(
        claim.approval, allow=False, caller=asked().caller, channel=channel
    )
    assert w.model.resumed == [False]
    assert channel.finished == [("Not saved.", None)]
    assert (record.outcome, record.trigger_message_id) == (Outcome.ANSWERED, 10)
    assert (await w.approvals.get(approval_id)).status is ApprovalStatus.DONE  # type: ignore[union-attr]


async def test_a_redelivered_answer_resumes_again_until_the_run_is_recorded() -> None:
    """A crash after the press but before the resumed turn is stored must not lose the turn."""
    w = world()
    approval_id = await ask(w)
    assert (await w.assistant.claim(approval_id, user_id=1, allow=True)).approval is not None
    # ... the process died here; the same button press is delivered again after the restart
    retry = await w.assistant.claim(approval_id, user_id=1, allow=True, again=True)
    assert retry.approval is not None
    await w.assistant.resume(retry.approval, allow=True, caller=asked().caller, channel=Channel())
    late = await w.assistant.claim(approval_id, user_id=1, allow=True, again=True)
    assert late.answer is Answer.EXPIRED  # recorded: never twice


async def test_an_unanswered_question_closes_when_its_time_is_up() -> None:
    w = world()
    approval_id = await ask(w)
    w.later(59)
    assert await w.assistant.expire_questions() == 0
    w.later(2)
    assert await w.assistant.expire_questions() == 1
    assert await w.assistant.expire_questions() == 0  # told once
    (edit,) = w.board.settled[501]
    assert edit.endswith("_No answer in time, so save_note was not used._")
    late = await w.assistant.claim(approval_id, user_id=1, allow=True)
    assert late.answer is Answer.EXPIRED
    assert w.model.resumed == []


async def test_stop_and_new_close_open_questions() -> None:
    w = world()
    first = await ask(w)
    assert await w.assistant.stop(KEY) is True  # nothing was being written, but a question was
    assert await w.assistant.stop(KEY) is False
    assert (await w.approvals.get(first)).status is ApprovalStatus.CANCELLED  # type: ignore[union-attr]
    second = await ask(w)
    await w.assistant.start_fresh(KEY)
    assert (await w.approvals.get(second)).status is ApprovalStatus.CANCELLED  # type: ignore[union-attr]
    assert all(
        edits[-1].endswith("_Stopped, so save_note was not used._")
        for edits in w.board.settled.values()
    )


@given(st.text(max_size=400), st.text(min_size=1, max_size=40).filter(lambda n: n != "n"))
def test_a_question_shows_the_arguments_as_written_and_never_as_links(
    value: str, name: str
) -> None:
    """Whatever the model put in the arguments reads back verbatim, without formatting."""
    parked = Parked(tool="create_issue", arguments={name: value, "n": 3}, state="{}", model="m")
    shown = render_markdown(question_text(ENGLISH, "Ann", parked))
    flat = " ".join(clean_reply(value).split())  # control characters never reach Telegram
    assert flat[:300] in shown.text
    assert {entity.type for entity in shown.entities} <= {"code"}
