"""One turn on a model: the chosen model (with fallbacks), the caller's tools, the turn's limits.

Implements the conversation's Model port on pydantic-ai: history becomes pydantic-ai messages,
text streams out as it grows, tools run through the ToolBox (permission, confirmation, log),
and every failure becomes a ModelFailure with a reason a user can read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pydantic_ai import Agent, Tool
from pydantic_ai.exceptions import UsageLimitExceeded
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    UserPromptPart,
)
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset
from pydantic_ai.usage import UsageLimits

from magpie.conversation.ports import TextSink
from magpie.conversation.turn import ModelFailure
from magpie.conversation.types import Caller, Completion, Preferences, Prompt
from magpie.llm.catalog import ModelCatalog
from magpie.llm.errors import describe
from magpie.tools.deps import ToolDeps
from magpie.tools.toolbox import ToolBox


@dataclass(frozen=True, slots=True)
class TurnLimits:
    """How far one turn may go: tool steps, wall-clock seconds, tokens."""

    max_tool_steps: int = 8
    seconds: float = 180.0
    max_tokens: int = 60_000


def to_messages(prompt: Prompt) -> list[ModelMessage]:
    """Our provider-neutral history as pydantic-ai messages."""
    messages: list[ModelMessage] = []
    for item in prompt.history:
        if item.role == "user":
            messages.append(ModelRequest(parts=[UserPromptPart(item.text)]))
        else:
            messages.append(ModelResponse(parts=[TextPart(item.text)]))
    return messages


class ModelRunner:
    """The Model port: stream a turn, with tools, within limits."""

    def __init__(
        self,
        catalog: ModelCatalog,
        *,
        toolbox: ToolBox | None = None,
        limits: TurnLimits | None = None,
    ) -> None:
        self.catalog = catalog
        self.toolbox = toolbox
        self.limits = limits or TurnLimits()
        self._agent: Agent[ToolDeps | None, str] = Agent(output_type=str, deps_type=ToolDeps | None)
        self._toolsets: dict[tuple[str, ...], FunctionToolset[ToolDeps]] = {}

    @property
    def name(self) -> str:
        return self.catalog.default

    def _toolset(self, tools: list[Tool[ToolDeps]]) -> FunctionToolset[ToolDeps]:
        """One toolset per combination of enabled tools, shared by the turns that use it."""
        key = tuple(tool.name for tool in tools)
        toolset = self._toolsets.get(key)
        if toolset is None:
            toolset = self._toolsets[key] = FunctionToolset(tools)
        return toolset

    async def complete(
        self,
        prompt: Prompt,
        *,
        caller: Caller,
        preferences: Preferences,
        on_text: TextSink,
        on_status: TextSink,
    ) -> Completion:
        label, model = self.catalog.chain(preferences.model)
        toolsets: list[AbstractToolset[ToolDeps | None]] = []
        deps: ToolDeps | None = None
        if self.toolbox is not None:
            tools, deps = self.toolbox.for_turn(
                caller, disabled=preferences.disabled_tools, status=on_status
            )
            toolsets.append(self._toolset(tools))  # type: ignore[arg-type]
        limits = UsageLimits(
            request_limit=self.limits.max_tool_steps + 2,
            tool_calls_limit=self.limits.max_tool_steps,
            total_tokens_limit=self.limits.max_tokens,
        )
        try:
            async with asyncio.timeout(self.limits.seconds):
                async with self._agent.run_stream(
                    prompt.message,
                    message_history=to_messages(prompt),
                    instructions=prompt.system,
                    model=model,
                    deps=deps,
                    toolsets=toolsets,
                    usage_limits=limits,
                ) as run:
                    async for text in run.stream_text(debounce_by=None):
                        await on_text(text)
                    output = await run.get_output()
                    usage = run.usage
        except ModelFailure:
            raise
        except UsageLimitExceeded:
            raise ModelFailure(
                f"it kept using tools without answering (limit: {self.limits.max_tool_steps} steps)"
            ) from None
        except TimeoutError:
            raise ModelFailure(
                f"the answer took longer than {int(self.limits.seconds)} seconds"
            ) from None
        except Exception as error:
            raise ModelFailure(describe(error)) from error
        return Completion(
            text=output,
            tokens_in=usage.input_tokens or 0,
            tokens_out=usage.output_tokens or 0,
            model=label,
            tool_calls=usage.tool_calls or 0,
        )
