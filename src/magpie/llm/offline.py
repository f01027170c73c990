"""The offline model: no key, no network, deterministic and honest about what it is.

It still exercises the whole pipeline: it reads the conversation history, streams its answer
in pieces at about the pace of a real model (OFFLINE_WORDS_PER_SECOND; 0 for at once), uses
Markdown, and runs tools for plain requests ("what time is it in Tokyo?",
"calculate 17*23", "remember that …", "what are my notes?", "weather in Lviv"), so drafts,
edits, formatting and the tool path are all visible with no LLM configured.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import (
    AgentInfo,
    DeltaToolCall,
    DeltaToolCalls,
    FunctionModel,
    StreamFunctionDef,
)

OFFLINE_NAME = "offline"
HOW_TO = (
    "To get real answers, set `LLM_MODEL` and a key, for example:\n"
    "```sh\n"
    "LLM_MODEL=openai:gpt-4o-mini OPENAI_API_KEY=sk-...\n"
    "LLM_MODEL=anthropic:claude-3-5-haiku-latest ANTHROPIC_API_KEY=...\n"
    "LLM_MODEL=ollama:llama3.2 OPENAI_BASE_URL=http://localhost:11434/v1\n"
    "```"
)
ZONES = {
    "kyiv": "Europe/Kyiv",
    "kiev": "Europe/Kyiv",
    "london": "Europe/London",
    "paris": "Europe/Paris",
    "berlin": "Europe/Berlin",
    "new york": "America/New_York",
    "tokyo": "Asia/Tokyo",
    "utc": "UTC",
}
EXPRESSION = re.compile(
    r"(?:calculate|compute|how much is|what is|what's)\s+([\d\s.+\-*/%()^]+\d\)?)"
)
REMEMBER = re.compile(r"(?:remember(?: that)?|note(?: that)?|save a note:?)\s+(.+)", re.I | re.S)
WEATHER = re.compile(r"weather (?:in|for|at) ([\w .'-]+)", re.I)


def _last_user_text(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in reversed(message.parts):
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


def _speaker_stripped(text: str) -> str:
    """In groups each line starts with "Name: "; the request is what follows."""
    line = text.strip().splitlines()[-1] if text.strip() else ""
    return line.split(": ", 1)[1] if re.match(r"^[^:]{1,64}: ", line) else line


def wanted_tool(text: str, available: set[str]) -> tuple[str, dict[str, str]] | None:
    """A tool call for a plain request, when that tool is available in this chat."""
    lowered = text.lower()
    if "current_time" in available and re.search(
        r"\b(what time|time is it|the time|date today)\b", lowered
    ):
        zone = next((z for name, z in ZONES.items() if name in lowered), "UTC")
        return "current_time", {"timezone": zone}
    if "calculate" in available and (match := EXPRESSION.search(lowered)):
        return "calculate", {"expression": match.group(1).strip().replace("^", "**")}
    if "find_notes" in available and re.search(
        r"\b(my notes|our notes|what did (i|we) note)\b", lowered
    ):
        return "find_notes", {"query": ""}
    if "save_note" in available and (match := REMEMBER.search(text)):
        return "save_note", {"text": match.group(1).strip()}
    if "weather" in available and (match := WEATHER.search(text)):
        return "weather", {"place": match.group(1).strip(" ?.!")}
    return None


def _tool_results(messages: list[ModelMessage]) -> list[ToolReturnPart]:
    last = messages[-1] if messages else None
    if not isinstance(last, ModelRequest):
        return []
    return [part for part in last.parts if isinstance(part, ToolReturnPart)]


def _inner(content: object) -> str:
    """A tool result without the untrusted-data frame around it."""
    text = str(content)
    match = re.search(r"<tool_result[^>]*>\n(.*)\n</tool_result>", text, re.S)
    return match.group(1) if match else text


def offline_reply(messages: list[ModelMessage]) -> str:
    """What the offline model says: the same words for the same conversation."""
    results = _tool_results(messages)
    if results:
        lines = [f"Here is what the **{r.tool_name}** tool says:" for r in results[:1]]
        lines += [
            f"> {line}" if line else ">" for r in results for line in _inner(r.content).splitlines()
        ]
        lines += ["", "_(offline model: I ran the tool, but I can't reason about the result.)_"]
        return "\n".join(lines)
    said = _speaker_stripped(_last_user_text(messages))
    earlier = sum(isinstance(m, ModelResponse) for m in messages)
    quoted = said[:200] + ("…" if len(said) > 200 else "")
    lines = [
        "I'm **Magpie**, running on the built-in *offline* model: no language model is "
        "configured, so I can't really think about your message yet.",
        "",
        f"You wrote: _{quoted}_" if quoted else "Your message had no text I could read.",
        f"I can see {earlier} earlier answer{'s' if earlier != 1 else ''} of mine in this "
        "conversation, so history works.",
        "",
        "I can still run a few tools: ask me `what time is it in Tokyo?`, `calculate 17*23`, "
        "`remember that …` or `what are my notes?`",
        "",
        HOW_TO,
    ]
    return "\n".join(lines)


def _streaming(words_per_second: float) -> StreamFunctionDef:
    async def stream(
        messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | DeltaToolCalls]:
        if not _tool_results(messages):
            available = {tool.name for tool in info.function_tools}
            call = wanted_tool(_speaker_stripped(_last_user_text(messages)), available)
            if call is not None:
                name, arguments = call
                yield {0: DeltaToolCall(name=name, json_args=json.dumps(arguments))}
                return
        words = offline_reply(messages).split(" ")
        step = max(1, len(words) // 8)
        for start in range(0, len(words), step):
            if start and words_per_second > 0:
                await asyncio.sleep(step / words_per_second)  # as fast as a model writes
            chunk = " ".join(words[start : start + step])
            yield chunk if start + step >= len(words) else chunk + " "

    return stream


def _reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse(parts=[TextPart(offline_reply(messages))], model_name=OFFLINE_NAME)


def offline_model(*, words_per_second: float = 0.0) -> FunctionModel:
    return FunctionModel(
        _reply, stream_function=_streaming(words_per_second), model_name=OFFLINE_NAME
    )
