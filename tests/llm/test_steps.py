"""The tool loop: a call that needs a yes parks the run as data; any runner can go on from it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from pydantic_ai.messages import ModelMessage, ModelRequest, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel

from magpie.conversation.ports import ModelFailure
from magpie.conversation.types import Caller, Completion, Parked, Preferences, Prompt
from magpie.llm.catalog import ModelCatalog
from magpie.llm.runner import ModelRunner
from magpie.tools.builtin.notes import MemoryNotes
from magpie.tools.catalog import builtin_tools
from magpie.tools.deps import ToolSettings
from magpie.tools.guard import ToolCallRecord
from magpie.tools.toolbox import ToolBox

ANN = Caller(user_id=1, name="Ann", chat_id=1)
Script = Callable[[list[ModelMessage]], list[str | DeltaToolCalls]]


class Calls:
    def __init__(self) -> None:
        self.made: list[tuple[str, str]] = []

    async def record(self, call: ToolCallRecord) -> None:
        self.made.append((call.tool, call.outcome))


def call(name: str, arguments: dict[str, object] | str, index: int = 0) -> DeltaToolCalls:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {index: DeltaToolCall(name=name, json_args=args)}


def returned(messages: list[ModelMessage]) -> list[str]:
    """The tool results the model got in its latest request."""
    last = messages[-1]
    assert isinstance(last, ModelRequest)
    return [str(p.content) for p in last.parts if isinstance(p, ToolReturnPart)]


def scripted(script: Script, seen: list[list[ModelMessage]]) -> FunctionModel:
    async def stream(
        messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | DeltaToolCalls]:
        seen.append(list(messages))
        for piece in script(messages):
            yield piece

    return FunctionModel(stream_function=stream)


class Bench:
    """A runner on a scripted model, with the built-in tools over one notes store."""

    def __init__(self, script: Script, notes: MemoryNotes, calls: Calls) -> None:
        self.seen: list[list[ModelMessage]] = []
        self.http = httpx.AsyncClient()
        toolbox = ToolBox(
            builtin_tools(), http=self.http, notes=notes, settings=ToolSettings(), calls=calls
        )
        self.runner = ModelRunner(
            ModelCatalog.of({"scripted": scripted(script, self.seen)}), toolbox=toolbox
        )

    async def ask(self, text: str) -> Completion:
        return await self.runner.complete(
            Prompt(system="Be brief.", history=(), message=text), **self._turn()
        )

    async def answer(self, parked: Parked, *, allowed: bool) -> Completion:
        return await self.runner.resume(parked, allowed=allowed, **self._turn())

    def _turn(self) -> dict[str, object]:
        async def quiet(text: str) -> None:
            return None

        return {"caller": ANN, "preferences": Preferences(), "on_text": quiet, "on_status": quiet}


def save_then_report(messages: list[ModelMessage]) -> list[str | DeltaToolCalls]:
    if len(messages) == 1:
        return ["Sure, ", "saving it. ", call("save_note", {"text": "buy milk"})]
    return [f"Done: {returned(messages)[0]}"]


async def test_a_call_that_needs_a_yes_parks_the_run_and_another_runner_resumes_it() -> None:
    notes, calls = MemoryNotes(), Calls()
    first = Bench(save_then_report, notes, calls)
    paused = await first.ask("remember to buy milk")
    assert paused.parked is not None
    assert (paused.parked.tool, paused.parked.arguments) == ("save_note", {"text": "buy milk"})
    assert paused.text == "Sure, saving it. "
    assert await notes.find(1, "") == [] and calls.made == []
    json.loads(paused.parked.state)  # plain data: it can wait in a database

    second = Bench(save_then_report, notes, calls)  # e.g. after a restart, or another worker
    done = await second.answer(paused.parked, allowed=True)
    assert done.parked is None
    assert "saved note #1" in done.text
    assert [n.text for n in await notes.find(1, "")] == ["buy milk"]
    assert calls.made == [("save_note", "ok")]
    resumed_with = second.seen[0]
    assert resumed_with[0].instructions == "Be brief."  # type: ignore[union-attr]
    assert isinstance(resumed_with[-1], ModelRequest)
    assert resumed_with[-1].instructions == "Be brief."  # the system prompt travels along


async def test_no_means_the_model_hears_it_was_not_done() -> None:
    notes, calls = MemoryNotes(), Calls()
    bench = Bench(save_then_report, notes, calls)
    paused = await bench.ask("remember to buy milk")
    assert paused.parked is not None
    done = await bench.answer(paused.parked, allowed=False)
    assert done.text == "Done: Ann did not allow save_note; it was not done."
    assert await notes.find(1, "") == []
    assert calls.made == [("save_note", "declined")]


async def test_calls_before_the_question_run_once_and_all_results_reach_the_model() -> None:
    def both(messages: list[ModelMessage]) -> list[str | DeltaToolCalls]:
        if len(messages) == 1:
            return [call("calculate", {"expression": "6*7"}) | call("save_note", {"text": "x"}, 1)]
        return [" | ".join(returned(messages))]

    calls = Calls()
    bench = Bench(both, MemoryNotes(), calls)
    paused = await bench.ask("go")
    assert paused.parked is not None and calls.made == [("calculate", "ok")]
    done = await bench.answer(paused.parked, allowed=True)
    assert calls.made == [("calculate", "ok"), ("save_note", "ok")]
    results = done.text.split(" | ")
    assert "42" in results[0] and "saved note #1" in results[1]


async def test_arguments_that_are_not_json_go_back_to_the_model_to_fix() -> None:
    def sloppy(messages: list[ModelMessage]) -> list[str | DeltaToolCalls]:
        if len(messages) == 1:
            return [call("calculate", "{expression: 6*7")]
        return [returned(messages)[0]]

    done = await Bench(sloppy, MemoryNotes(), Calls()).ask("go")
    assert done.text == "The arguments for calculate were not a valid JSON object; try again."


async def test_a_parked_run_that_cannot_be_read_back_fails_with_a_reason() -> None:
    bench = Bench(save_then_report, MemoryNotes(), Calls())
    broken = Parked(tool="save_note", arguments={}, state='{"messages": []}', model="scripted")
    with pytest.raises(ModelFailure) as failure:
        await bench.answer(broken, allowed=True)
    assert failure.value.reason == "the paused answer could not be read back"
