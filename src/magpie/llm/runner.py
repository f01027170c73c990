"""One turn on a model: the chosen model (with fallbacks), the caller's tools, the turn's limits.

Implements the conversation's Model port: history becomes pydantic-ai messages, the tool loop
(llm/steps.py) streams the answer and runs tools through the ToolBox, a tool that needs the
caller's yes parks the run (Completion.parked), and every failure becomes a ModelFailure with
a reason a user can read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.models import ModelRequestParameters

from magpie.conversation.ports import ModelFailure, TextSink
from magpie.conversation.types import Caller, Completion, Parked, Preferences, Prompt
from magpie.llm.catalog import ModelCatalog
from magpie.llm.errors import describe
from magpie.llm.steps import Finished, Progress, ToolLoop, definitions
from magpie.texts import ENGLISH, FailureReasons
from magpie.tools.toolbox import ToolBox


@dataclass(frozen=True, slots=True)
class TurnLimits:
    """How far one turn may go: tool calls, wall-clock seconds, tokens."""

    max_tool_steps: int = 8
    seconds: float = 180.0
    max_tokens: int = 60_000


def to_messages(prompt: Prompt) -> list[ModelMessage]:
    """Our provider-neutral prompt as pydantic-ai messages, ending with the new message."""
    messages: list[ModelMessage] = []
    for item in prompt.history:
        if item.role == "user":
            messages.append(ModelRequest(parts=[UserPromptPart(item.text)]))
        else:
            messages.append(ModelResponse(parts=[TextPart(item.text)]))
    messages.append(
        ModelRequest(parts=[UserPromptPart(prompt.message)], instructions=prompt.system)
    )
    return messages


class ModelRunner:
    """The Model port: stream a turn, with tools, within limits; park it at a question."""

    def __init__(
        self,
        catalog: ModelCatalog,
        *,
        toolbox: ToolBox | None = None,
        limits: TurnLimits | None = None,
        reasons: FailureReasons = ENGLISH.reasons,
    ) -> None:
        self.catalog = catalog
        self.toolbox = toolbox
        self.limits = limits or TurnLimits()
        self.reasons = reasons
        self._parameters: dict[tuple[str, ...], ModelRequestParameters] = {}

    @property
    def name(self) -> str:
        return self.catalog.default

    async def complete(
        self,
        prompt: Prompt,
        *,
        caller: Caller,
        preferences: Preferences,
        on_text: TextSink,
        on_status: TextSink,
    ) -> Completion:
        progress = Progress(messages=to_messages(prompt))
        label, loop = self._loop(
            preferences.model, caller, preferences, on_text, on_status, prompt.system
        )
        return await self._run(label, loop, progress)

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
        try:
            progress = Progress.load(parked.state)
        except ValueError as error:
            raise ModelFailure(self.reasons.lost_pause) from error
        label, loop = self._loop(
            parked.model, caller, preferences, on_text, on_status, _instructions(progress)
        )
        return await self._run(label, loop, progress, allowed=allowed)

    def _loop(
        self,
        choice: str | None,
        caller: Caller,
        preferences: Preferences,
        on_text: TextSink,
        on_status: TextSink,
        instructions: str,
    ) -> tuple[str, ToolLoop]:
        label, model = self.catalog.chain(choice)
        deps = None
        parameters = self._parameters.get(())
        if self.toolbox is not None:
            specs, deps = self.toolbox.for_turn(
                caller, disabled=preferences.disabled_tools, status=on_status
            )
            names = tuple(spec.name for spec in specs)
            parameters = self._parameters.get(names)
            if parameters is None:  # one per combination of enabled tools, shared by turns
                parameters = self._parameters[names] = ModelRequestParameters(
                    function_tools=definitions(specs), allow_text_output=True
                )
        if parameters is None:
            parameters = self._parameters[()] = ModelRequestParameters(allow_text_output=True)
        loop = ToolLoop(
            model,
            parameters,
            toolbox=self.toolbox,
            deps=deps,
            instructions=instructions,
            on_text=on_text,
            max_tool_calls=self.limits.max_tool_steps,
            max_tokens=self.limits.max_tokens,
            reasons=self.reasons,
        )
        return label, loop

    async def _run(
        self, label: str, loop: ToolLoop, progress: Progress, *, allowed: bool | None = None
    ) -> Completion:
        """The loop within the turn's time; `allowed`: the answer to the question it stopped at."""
        try:
            async with asyncio.timeout(self.limits.seconds):
                if allowed is not None:
                    await loop.decide(progress, allowed=allowed)
                finished = await loop.run(progress)
        except ModelFailure:
            raise
        except TimeoutError:
            seconds = int(self.limits.seconds)
            raise ModelFailure(self.reasons.took_too_long.format(seconds=seconds)) from None
        except Exception as error:
            raise ModelFailure(describe(error, self.reasons)) from error
        return _completion(label, finished)


def _instructions(progress: Progress) -> str:
    """The system prompt a run started with (every request of the run carries it)."""
    for message in progress.messages:
        if isinstance(message, ModelRequest) and message.instructions:
            return message.instructions
    return ""


def _completion(label: str, finished: Finished) -> Completion:
    pause = finished.pause
    parked = (
        Parked(tool=pause.call.tool_name, arguments=pause.arguments, state=pause.state, model=label)
        if pause is not None
        else None
    )
    return Completion(
        text=finished.text,
        tokens_in=finished.usage.input_tokens,
        tokens_out=finished.usage.output_tokens,
        model=label,
        tool_calls=finished.tool_calls,
        parked=parked,
        tokens_cached=finished.usage.cache_read_tokens,
    )
