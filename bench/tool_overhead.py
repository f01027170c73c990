"""What one tool step costs Magpie, against a turn without tools, in the same run (tools issue).

A fake instant model (pydantic-ai FunctionModel) either answers at once, or first calls an
instant tool N times, one step each. Both go through Magpie's ModelRunner and ToolBox (the
guard: permission, approval check, status, call log, untrusted framing). Per-step overhead
= (time with N steps − time without tools) / N. Target: ≤ 5 ms of Magpie's own time per step.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator

import httpx
from pydantic_ai.messages import ModelMessage, ModelRequest, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel

from magpie.conversation.types import Caller, Preferences, Prompt
from magpie.llm.catalog import ModelCatalog
from magpie.llm.runner import ModelRunner, TurnLimits
from magpie.observability.logging import configure_logging
from magpie.tools.deps import Note, ToolDeps, ToolSettings
from magpie.tools.guard import ToolCallRecord
from magpie.tools.spec import tool
from magpie.tools.toolbox import ToolBox


async def noop(deps: ToolDeps, value: int = 0) -> str:
    """Return the value (an instant tool)."""
    return str(value)


class NoNotes:
    async def add(self, chat_id: int, *, author_id: int, author: str, text: str) -> Note:
        return Note(0, text, author)

    async def find(self, chat_id: int, query: str, *, limit: int = 10) -> list[Note]:
        return []


class Calls:
    def __init__(self) -> None:
        self.count = 0

    async def record(self, call: ToolCallRecord) -> None:
        self.count += 1


def scripted(steps: int) -> FunctionModel:
    async def stream(
        messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | DeltaToolCalls]:
        done = sum(
            isinstance(part, ToolReturnPart)
            for message in messages
            if isinstance(message, ModelRequest)
            for part in message.parts
        )
        if done < steps:
            yield {0: DeltaToolCall(name="noop", json_args=json.dumps({"value": done}))}
            return
        yield "Done."

    return FunctionModel(stream_function=stream, model_name=f"steps-{steps}")


async def turn_seconds(runner: ModelRunner, turns: int) -> list[float]:
    prompt = Prompt(system="You are a benchmark.", history=(), message="go")
    caller = Caller(user_id=1, name="Ann", chat_id=1)

    async def sink(text: str) -> None:
        return None

    times = []
    for _ in range(turns):
        started = time.perf_counter()
        await runner.complete(
            prompt, caller=caller, preferences=Preferences(), on_text=sink, on_status=sink
        )
        times.append(time.perf_counter() - started)
    return times


async def measure(steps: int, turns: int) -> None:
    async with httpx.AsyncClient() as http:
        calls = Calls()
        box = ToolBox(
            [tool(noop)],
            http=http,
            notes=NoNotes(),
            settings=ToolSettings(),
            calls=calls,
        )
        limits = TurnLimits(max_tool_steps=steps + 1)
        plain = ModelRunner(ModelCatalog.of({"plain": scripted(0)}), toolbox=box, limits=limits)
        tooled = ModelRunner(
            ModelCatalog.of({"tools": scripted(steps)}), toolbox=box, limits=limits
        )
        await turn_seconds(plain, 20)  # warm up
        await turn_seconds(tooled, 5)
        baseline = await turn_seconds(plain, turns)
        with_tools = await turn_seconds(tooled, turns)
    base, tooled_median = statistics.median(baseline), statistics.median(with_tools)
    per_step = (tooled_median - base) / steps * 1000
    print(f"turn without tools: median {base * 1000:7.2f} ms  ({turns} turns)")
    print(f"turn with {steps} steps  : median {tooled_median * 1000:7.2f} ms")
    print(
        f"per tool step      : {per_step:7.2f} ms   (target <= 5 ms)   calls logged: {calls.count}"
    )


def main() -> None:
    configure_logging("ERROR", "console")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(measure(args.steps, args.turns))


if __name__ == "__main__":
    main()
