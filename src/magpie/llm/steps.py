"""The tool loop of one turn, on pydantic-ai's model API: ask, stream, run tools, ask again.

Each step is one `pydantic_ai.direct.model_request_stream` call (the vendor SDK over HTTP);
the model's text streams out as it grows; tool calls go through the ToolBox. A call that needs
its asker's yes ends the loop with a `Pause`: everything needed to go on later (the messages so
far, the results already in, the calls still to run) is in `Pause.state`, plain JSON, so the
run can be resumed by another process after a restart.

Agent.run_stream does the same and much more (graphs, capabilities, output validation, task
groups); for a chat turn that costs ~25× the model call itself (bench/README.md, ADR 10).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import ModelMessagesTypeAdapter
from pydantic_ai.direct import model_request_stream
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelRequestPart,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.usage import RequestUsage

from magpie.conversation.ports import ModelFailure, TextSink
from magpie.texts import FailureReasons
from magpie.tools.deps import ToolDeps
from magpie.tools.guard import AskFirst
from magpie.tools.spec import ToolSpec
from magpie.tools.toolbox import ToolBox


@dataclass(slots=True)
class Pause:
    """The loop stopped at `call`, which needs its asker's yes."""

    call: ToolCallPart
    arguments: dict[str, Any]
    state: str


@dataclass(slots=True)
class Finished:
    """What the loop ended with: an answer, or a pause for a question (and the words the
    model wrote before the call, if any)."""

    text: str
    usage: RequestUsage
    tool_calls: int
    pause: Pause | None = None


@dataclass(slots=True)
class Progress:
    """A run as it goes: its messages, the current step's tool results, what it spent."""

    messages: list[ModelMessage]
    results: list[ModelRequestPart] = field(default_factory=list)
    waiting: list[ToolCallPart] = field(default_factory=list)
    tool_calls: int = 0

    def dump(self) -> str:
        """As JSON: pydantic-ai's own message format, the results as one more request."""
        messages = [*self.messages, ModelRequest(parts=list(self.results))]
        return json.dumps(
            {
                "messages": json.loads(ModelMessagesTypeAdapter.dump_json(messages)),
                "waiting": [call.tool_call_id for call in self.waiting],
                "tool_calls": self.tool_calls,
            }
        )

    @classmethod
    def load(cls, state: str) -> Progress:
        """The run `dump` wrote; ValueError for anything else."""
        try:
            data = json.loads(state)
            messages = ModelMessagesTypeAdapter.validate_python(data["messages"])
            results, response = messages.pop(), messages[-1]
            if not isinstance(results, ModelRequest) or not isinstance(response, ModelResponse):
                raise ValueError("not a parked run")
            calls = {p.tool_call_id: p for p in response.parts if isinstance(p, ToolCallPart)}
            return cls(
                messages=messages,
                results=list(results.parts),
                waiting=[calls[call_id] for call_id in data["waiting"]],
                tool_calls=int(data["tool_calls"]),
            )
        except (KeyError, IndexError, TypeError) as error:
            raise ValueError(f"not a parked run: {error!r}") from error


def definitions(specs: Sequence[ToolSpec]) -> list[ToolDefinition]:
    return [
        ToolDefinition(
            name=spec.name,
            description=spec.description,
            parameters_json_schema=spec.parameters or {"type": "object", "properties": {}},
        )
        for spec in specs
    ]


class ToolLoop:
    """One turn's steps on one model (a fallback chain is one model), within its limits."""

    def __init__(
        self,
        model: Model,
        parameters: ModelRequestParameters,
        *,
        toolbox: ToolBox | None,
        deps: ToolDeps | None,
        instructions: str,
        on_text: TextSink,
        max_tool_calls: int,
        max_tokens: int,
        reasons: FailureReasons,
    ) -> None:
        self.model = model
        self.parameters = parameters
        self.toolbox = toolbox
        self.deps = deps
        self.instructions = instructions
        self.on_text = on_text
        self.max_tool_calls = max_tool_calls
        self.max_tokens = max_tokens
        self.reasons = reasons
        self.usage = RequestUsage()
        self.preamble = ""  # what the model wrote in the step that called the tools

    async def run(self, progress: Progress) -> Finished:
        """Steps until the model answers without tools, or a call needs a yes."""
        while True:
            if progress.waiting or progress.results:  # a step's calls (some may be done)
                pause = await self._run_calls(progress)
                if pause is not None:
                    return Finished(self.preamble, self.usage, progress.tool_calls, pause)
                progress.messages.append(
                    ModelRequest(parts=progress.results, instructions=self.instructions)
                )
                progress.results = []
            response, text = await self._step(progress.messages)
            calls = [part for part in response.parts if isinstance(part, ToolCallPart)]
            if not calls and not text.strip():  # models do send nothing now and then: once more
                response, text = await self._step(progress.messages)
                calls = [part for part in response.parts if isinstance(part, ToolCallPart)]
            progress.messages.append(response)
            if not calls:
                return Finished(text, self.usage, progress.tool_calls)
            progress.waiting = calls
            self.preamble = text

    async def _step(self, messages: list[ModelMessage]) -> tuple[ModelResponse, str]:
        """One model request, its text streamed as it grows."""
        parts: dict[int, str] = {}
        async with model_request_stream(
            self.model, messages, model_request_parameters=self.parameters
        ) as stream:
            async for event in stream:
                if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
                    parts[event.index] = event.part.content
                elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                    parts[event.index] = parts.get(event.index, "") + event.delta.content_delta
                else:
                    continue
                await self.on_text("".join(parts[index] for index in sorted(parts)))
            response = stream.get()
        self.usage.incr(response.usage)
        if self.usage.input_tokens + self.usage.output_tokens > self.max_tokens:
            raise ModelFailure(self.reasons.too_many_tokens.format(limit=self.max_tokens))
        return response, "".join(parts[index] for index in sorted(parts))

    async def _run_calls(self, progress: Progress) -> Pause | None:
        """Run the waiting calls in order; stop at the first that needs a yes."""
        while progress.waiting:
            call = progress.waiting[0]
            if progress.tool_calls >= self.max_tool_calls:
                raise ModelFailure(
                    f"it kept using tools without answering (limit: {self.max_tool_calls} steps)"
                )
            result = await self._call(call)
            if isinstance(result, AskFirst):
                return Pause(call, dict(result.arguments), progress.dump())
            progress.waiting.pop(0)
            progress.tool_calls += 1
            progress.results.append(_returned(call, result))
        return None

    async def _call(self, call: ToolCallPart) -> str | AskFirst:
        if self.toolbox is None or self.deps is None:
            return f"There is no tool called {call.tool_name!r}: answer without tools."
        try:
            arguments = call.args_as_dict(raise_if_invalid=True)
        except (ValueError, AssertionError):
            return f"The arguments for {call.tool_name} were not a valid JSON object; try again."
        return await self.toolbox.call(call.tool_name, self.deps, arguments)

    async def decide(self, progress: Progress, *, allowed: bool) -> None:
        """The person answered the question the run stopped at: run the call, or don't."""
        call = progress.waiting.pop(0)
        progress.tool_calls += 1
        if self.toolbox is None or self.deps is None:
            progress.results.append(_returned(call, "No tools are available any more."))
            return
        arguments = call.args_as_dict()
        if allowed:
            result = await self.toolbox.call(call.tool_name, self.deps, arguments, approved=True)
            text = result if isinstance(result, str) else "It could not be run."
        else:
            text = await self.toolbox.decline(call.tool_name, self.deps, arguments)
        progress.results.append(_returned(call, text))


def _returned(call: ToolCallPart, text: str) -> ToolReturnPart:
    return ToolReturnPart(call.tool_name, text, tool_call_id=call.tool_call_id)
