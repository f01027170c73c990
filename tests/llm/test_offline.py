"""The offline model as any pydantic-ai caller runs it: what it echoes, when it uses a tool,
what it says about a tool's result, and how its streamed answer reads when stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_ai.direct import model_request, model_request_stream
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.tools import ToolDefinition

from magpie.conversation.cleaning import clean_reply
from magpie.conversation.context import GROUP_RULES, said_by
from magpie.llm.offline import offline_model
from magpie.telegram.formatting import Formatted, render_markdown
from magpie.texts import ENGLISH
from magpie.tools.deps import ToolDeps
from magpie.tools.guard import ToolCallRecord, decline_tool, run_tool
from magpie.tools.spec import Access, ToolFailure, ToolSpec, tool
from tests.tools.tool_deps import make_deps

TOOLS = ("current_time", "calculate", "save_note", "find_notes", "weather")


def asked(text: str, *, group: bool = False) -> list[ModelMessage]:
    """A conversation whose newest message is `text`, as the runner hands it to a model."""
    instructions = f"You are Magpie.\n\n{GROUP_RULES}" if group else "You are Magpie."
    return [ModelRequest(parts=[UserPromptPart(text)], instructions=instructions)]


def parameters(tools: Sequence[str]) -> ModelRequestParameters:
    schema = {"type": "object", "properties": {}}
    return ModelRequestParameters(
        function_tools=[ToolDefinition(name=name, parameters_json_schema=schema) for name in tools]
    )


async def move(messages: list[ModelMessage], tools: Sequence[str] = TOOLS) -> ModelResponse:
    """The model's whole response, streamed as Magpie asks for it."""
    async with model_request_stream(
        offline_model(), messages, model_request_parameters=parameters(tools)
    ) as stream:
        async for _ in stream:
            pass
        return stream.get()


async def said(messages: list[ModelMessage], tools: Sequence[str] = TOOLS) -> str:
    """The answer's Markdown; fails if the model called a tool instead."""
    (part,) = (await move(messages, tools)).parts
    assert isinstance(part, TextPart), part
    return part.content


def shown(markdown: str) -> Formatted:
    """What a person sees of the model's Markdown: cleaned and formatted as Magpie does."""
    return render_markdown(clean_reply(markdown))


def italic(formatted: Formatted) -> list[str]:
    raw = formatted.text.encode("utf-16-le", "surrogatepass")
    return [
        raw[2 * e.offset : 2 * (e.offset + e.length)].decode("utf-16-le", "surrogatepass")
        for e in formatted.entities
        if e.type == "italic"
    ]


async def echoed(text: str, *, group: bool = False) -> Formatted:
    return shown(await said(asked(text, group=group), tools=()))


# --- what it quotes back ------------------------------------------------------------------------

MARKDOWN_AND_MORE = [
    *"*_[]`~&#>\\|-!():. \n\t",
    "&amp;",
    "&#10;",
    "<b>",
    "1.",
    "\n\n",
    "😀",
    "🇺🇦",
    "é",
]
PEOPLES_TEXT = st.lists(
    st.sampled_from(MARKDOWN_AND_MORE) | st.characters(exclude_categories=["Cs"]), max_size=60
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PEOPLES_TEXT)
async def test_what_the_offline_model_quotes_back_is_what_the_person_wrote(text: str) -> None:
    expected = clean_reply(text).strip()
    formatted = await echoed(text)
    if not expected:
        assert "Your message had no text I could read." in formatted.text
        return
    assert f"You wrote: {expected}\n" in formatted.text
    assert expected in italic(formatted)


@pytest.mark.parametrize(
    "text",
    ["*_[", "&amp; &lt;b&gt; &#42;", "first line\nsecond line\n\nafter a blank line", "1. a\n- b"],
)
async def test_markdown_entities_and_lines_come_back_as_written(text: str) -> None:
    assert f"You wrote: {text}\n" in (await echoed(text)).text


async def test_in_a_group_the_newest_message_is_quoted_whole_without_its_authors_name() -> None:
    prompt = "\n".join(
        [said_by("Ann", "morning all"), said_by("Bob", "@magpie_bot first line\nsecond line")]
    )
    formatted = await echoed(prompt, group=True)
    assert "You wrote: @magpie_bot first line\nsecond line\n" in formatted.text


async def test_in_a_private_chat_a_leading_word_and_colon_is_part_of_the_message() -> None:
    assert "You wrote: Re: the trip\n" in (await echoed("Re: the trip")).text


async def test_a_very_long_message_is_quoted_up_to_a_cut_marked_with_an_ellipsis() -> None:
    text = " ".join(f"word{i}" for i in range(400))
    quote = next(q for q in italic(await echoed(text)) if q.startswith("word0 "))
    assert quote.endswith("…") and text.startswith(quote[:-1]) and len(quote) <= 601


# --- streaming and stopping ---------------------------------------------------------------------


async def streamed(messages: list[ModelMessage]) -> AsyncIterator[str]:
    """The answer so far after each piece, as a runner hands it on while streaming."""
    text = ""
    async with model_request_stream(
        offline_model(), messages, model_request_parameters=parameters(())
    ) as stream:
        async for event in stream:
            if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
                text += event.part.content
            elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                text += event.delta.content_delta
            else:
                continue
            yield text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PEOPLES_TEXT)
async def test_an_answer_stopped_at_any_point_reads_as_the_answer_did_so_far(text: str) -> None:
    prefixes = [prefix async for prefix in streamed(asked(text))]
    assert len(prefixes) > 3  # it does stream in pieces
    whole = shown(prefixes[-1]).text
    for prefix in prefixes:
        so_far = shown(prefix).text
        assert whole.startswith(so_far)
        stopped = shown(prefix + ENGLISH.stopped_suffix).text
        assert stopped == so_far + ENGLISH.stopped_suffix


async def test_a_stopped_echo_shows_no_stray_underscore() -> None:
    words = " ".join(f"word{i}" for i in range(40))
    for prefix in [p async for p in streamed(asked(words))]:
        assert "You wrote: _" not in shown(prefix + ENGLISH.stopped_suffix).text


# --- when it uses a tool ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "arguments"),
    [
        ("what time is it in Tokyo?", "current_time", {"timezone": "Asia/Tokyo"}),
        ("What's the time?", "current_time", {"timezone": "UTC"}),
        ("calculate 17*23", "calculate", {"expression": "17*23"}),
        ("calculate (2**64) / 7 + sqrt(2)", "calculate", {"expression": "(2**64) / 7 + sqrt(2)"}),
        ("what is 2 + 2?", "calculate", {"expression": "2 + 2"}),
        (
            "remember that the keys are under the mat",
            "save_note",
            {"text": "the keys are under the mat"},
        ),
        (
            "@magpie_bot remember that Bob owes me 5 euros",
            "save_note",
            {"text": "Bob owes me 5 euros"},
        ),
        ("what are my notes?", "find_notes", {"query": ""}),
        ("find notes about keys", "find_notes", {"query": "keys"}),
        ("weather in Lviv", "weather", {"place": "Lviv"}),
        (
            "magpie, what's the weather like in Paris, France?",
            "weather",
            {"place": "Paris, France"},
        ),
    ],
)
async def test_a_plain_request_runs_its_tool(
    text: str, tool: str, arguments: dict[str, str]
) -> None:
    (part,) = (await move(asked(text))).parts
    assert isinstance(part, ToolCallPart)
    assert (part.tool_name, part.args_as_dict()) == (tool, arguments)


def seen_parts(response: ModelResponse) -> list[tuple[str, object]]:
    return [
        (part.tool_name, part.args_as_dict()) if isinstance(part, ToolCallPart) else ("", part)
        for part in response.parts
    ]


@pytest.mark.parametrize("text", ["what time is it in Tokyo?", "do you remember me?", "hi"])
async def test_asked_without_streaming_it_makes_the_same_move(text: str) -> None:
    whole = await model_request(
        offline_model(), asked(text), model_request_parameters=parameters(TOOLS)
    )
    assert seen_parts(whole) == seen_parts(await move(asked(text)))


@pytest.mark.parametrize(
    "text",
    [
        "I don't have the time for this",
        "what is love?",
        "I love the weather in spring, remember?",
        "I can't remember where I put my notes app",
        "time flies when you're having fun",
    ],
)
async def test_a_tool_word_in_a_sentence_is_not_a_request(text: str) -> None:
    assert "You wrote:" in await said(asked(text))


async def test_do_you_remember_me_saves_nothing_and_says_how_to_keep_a_note() -> None:
    answer = shown(await said(asked("do you remember me?"))).text
    assert "I didn't save anything" in answer
    assert "remember that …" in answer


async def test_a_remember_that_asks_a_question_saves_nothing() -> None:
    answer = shown(await said(asked("remember that the meeting is at 5?"))).text
    assert "I didn't save anything: that reads as a question." in answer


@pytest.mark.parametrize(
    ("text", "unread"),
    [
        ("calculate (2**64) / 7 + sqrt(2", "(2**64) / 7 + sqrt(2"),
        ("calculate my taxes", "my taxes"),
        ("compute 2 apples + 3 pears", "2 apples + 3 pears"),
    ],
)
async def test_an_expression_it_cannot_read_whole_is_not_calculated_in_part(
    text: str, unread: str
) -> None:
    answer = shown(await said(asked(text))).text
    can = "I can only calculate plain arithmetic like 17*23 or sqrt(2) / 7"
    assert f"{can}; I couldn't read {unread}." in answer


async def test_a_request_for_a_tool_switched_off_here_says_so() -> None:
    answer = shown(await said(asked("calculate 2+2"), tools=("current_time",))).text
    assert "I'd use the calculate tool for that, but it isn't available here." in answer
    assert "ask me what time is it in Tokyo?" in answer and "calculate 17*23" not in answer


# --- what it says about a tool's result ---------------------------------------------------------


class Calls:
    async def record(self, call: ToolCallRecord) -> None:
        return None


async def save_note(deps: ToolDeps, text: str) -> str:
    """Save a note (a side effect, so the guard asks first)."""
    return f"saved: {text}"


async def calculate(deps: ToolDeps, expression: str) -> str:
    """Stands in for a tool whose service is broken."""
    raise RuntimeError("disk on fire")


async def find_notes(deps: ToolDeps, query: str) -> str:
    """Stands in for an MCP tool that reports its own error."""
    raise ToolFailure("index *unavailable* _today_")


async def after(result: str, tool_name: str, **outcome: Any) -> str:
    """What the offline model says once `tool_name` came back with `result`."""
    messages: list[ModelMessage] = [
        *asked("do it"),
        ModelResponse(parts=[ToolCallPart(tool_name, {}, tool_call_id="call-1")]),
        ModelRequest(parts=[ToolReturnPart(tool_name, result, tool_call_id="call-1", **outcome)]),
    ]
    return shown(await said(messages)).text


async def guarded(spec: ToolSpec, *, allow: bool = True, **arguments: str) -> str:
    """The guard's words for the model: the call run (allowed), or declined (not)."""
    async with httpx.AsyncClient() as http:
        deps = make_deps(http, user_name="Ann")
        if not allow:
            return await decline_tool(spec, deps, arguments, calls=Calls())
        result = await run_tool(spec, deps, arguments, calls=Calls(), approved=True)
        assert isinstance(result, str)
        return result


async def test_a_tool_the_person_did_not_allow_is_reported_as_not_done() -> None:
    result = await guarded(tool(save_note, side_effects=True), allow=False, text="x")
    answer = await after(result, "save_note")
    assert answer == "I didn't use the save_note tool: Ann did not allow it, so nothing was done."


async def test_a_tool_the_person_may_not_use_is_reported_as_refused() -> None:
    result = await guarded(tool(save_note, access=Access.CHAT_ADMINS), text="x")
    answer = await after(result, "save_note")
    assert answer == (
        "I can't use the save_note tool for Ann: only this chat's admins can, so nothing was done."
    )


async def test_a_tool_that_crashed_is_reported_as_failed_with_its_reason() -> None:
    answer = await after(await guarded(tool(calculate), expression="1/0"), "calculate")
    assert (
        answer
        == "The calculate tool failed, so I have no result. It said:\n\nRuntimeError: disk on fire"
    )
    assert "I ran the tool" not in answer


async def test_a_tools_own_words_are_quoted_as_they_are() -> None:
    answer = await after(await guarded(tool(find_notes), query=""), "find_notes")
    assert "Here is what the find_notes tool says:\n\nindex *unavailable* _today_\n" in answer


async def test_a_result_shows_as_written_and_says_what_the_offline_model_cannot_do() -> None:
    answer = await after(await guarded(tool(save_note), text="a *b* &amp;\n1. c"), "save_note")
    assert answer.startswith("Here is what the save_note tool says:\n\nsaved: a *b* &amp;\n1. c\n")
    assert answer.endswith("(offline model: I ran the tool, but I can't reason about the result.)")


@pytest.mark.parametrize(
    ("outcome", "says"),
    [
        ("denied", "I didn't use the save_note tool: it was not allowed, so nothing was done."),
        (
            "retried",
            "I couldn't use the save_note tool: it did not accept the request as I made it.",
        ),
        ("interrupted", "The save_note tool was interrupted, so I have no result."),
        ("failed", "The save_note tool failed, so I have no result. It said:\n\nboom"),
    ],
)
async def test_pydantic_ais_own_outcomes_are_reported_for_what_they_are(
    outcome: str, says: str
) -> None:
    assert await after("boom", "save_note", outcome=outcome) == says
