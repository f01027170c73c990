"""A turn's limits: a model that never stops calling tools ends with a clear reason."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel

from magpie.conversation.ports import ModelFailure
from magpie.conversation.types import Caller, Preferences, Prompt
from magpie.llm.catalog import ModelCatalog
from magpie.llm.runner import ModelRunner, TurnLimits
from magpie.tools.builtin.notes import MemoryNotes
from magpie.tools.catalog import builtin_tools
from magpie.tools.deps import ToolSettings
from magpie.tools.guard import ToolCallRecord
from magpie.tools.toolbox import ToolBox


class Calls:
    def __init__(self) -> None:
        self.made: list[str] = []

    async def record(self, call: ToolCallRecord) -> None:
        self.made.append(call.tool)


async def forever(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[DeltaToolCalls]:
    yield {0: DeltaToolCall(name="calculate", json_args=json.dumps({"expression": "1+1"}))}


async def silent(text: str) -> None:
    return None


async def test_a_runaway_tool_loop_ends_with_a_clear_reason() -> None:
    calls = Calls()
    async with httpx.AsyncClient() as http:
        toolbox = ToolBox(
            builtin_tools(),
            http=http,
            notes=MemoryNotes(),
            settings=ToolSettings(),
            calls=calls,
        )
        runner = ModelRunner(
            ModelCatalog.of({"loop": FunctionModel(stream_function=forever)}),
            toolbox=toolbox,
            limits=TurnLimits(max_tool_steps=3),
        )
        with pytest.raises(ModelFailure) as failure:
            await runner.complete(
                Prompt(system="s", history=(), message="go"),
                caller=Caller(user_id=1, name="Ann", chat_id=1),
                preferences=Preferences(),
                on_text=silent,
                on_status=silent,
            )
    assert failure.value.reason == "it kept using tools without answering (limit: 3 steps)"
    assert calls.made == ["calculate"] * 3
