"""The offline model: no key, no network, deterministic and honest about what it is.

It still exercises the whole pipeline: it reads the conversation history, streams its answer
in pieces at about the pace of a real model (OFFLINE_WORDS_PER_SECOND; 0 for at once), uses
Markdown, and runs tools for plain requests ("what time is it in Tokyo?",
"calculate 17*23", "remember that …", "what are my notes?", "weather in Lviv"; see
`offline_requests`), so drafts, edits, formatting and the tool path are all visible with no
LLM configured. It is a plain `FunctionModel`: tools come from `AgentInfo.function_tools`,
their results from the message history, so any pydantic-ai caller can run it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
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

from magpie.conversation.cleaning import clean_reply
from magpie.conversation.context import GROUP_RULES, read_said
from magpie.llm.offline_markdown import clipped, literal, pieces
from magpie.llm.offline_requests import ToolCall, Unclear, read_request

OFFLINE_NAME = "offline"
HOW_TO = (
    "To get real answers, set `LLM_MODEL` and a key, for example:\n"
    "```sh\n"
    "LLM_MODEL=openai:gpt-4o-mini OPENAI_API_KEY=sk-...\n"
    "LLM_MODEL=anthropic:claude-3-5-haiku-latest ANTHROPIC_API_KEY=...\n"
    "LLM_MODEL=ollama:llama3.2 OPENAI_BASE_URL=http://localhost:11434/v1\n"
    "```"
)
EXAMPLES = {
    "current_time": "`what time is it in Tokyo?`",
    "calculate": "`calculate 17*23`",
    "save_note": "`remember that …`",
    "find_notes": "`what are my notes?`",
}  # not the weather: it needs the internet, and the offline demo may have none
QUOTE_CHARS, QUOTE_LINES = 600, 12  # how much of a message the echo shows
RESULT_CHARS, RESULT_LINES = 3000, 40  # how much of a tool's result is quoted
_DECLINED = re.compile(r"(?P<who>.+) did not allow (?P<tool>\S+); it was not done\.", re.S)
_REFUSED = re.compile(
    r"Not allowed: (?P<tool>\S+) can only be used by (?P<who>.+?), "
    r"and (?P<user>.+) is not one of them\..*",
    re.S,
)
_FAILED = re.compile(r"The tool (?P<tool>\S+) failed: (?P<error>.*)", re.S)
_FRAMED = re.compile(
    r'<tool_result tool="[^"]*" trust="untrusted">\n(?P<text>.*)\n</tool_result>', re.S
)


def _in_group(messages: Sequence[ModelMessage], info: AgentInfo) -> bool:
    """Whether the conversation is a group's, where every message opens with its author."""
    system = [info.instructions or ""]
    system += [
        part.content
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, SystemPromptPart)
    ]
    return any(GROUP_RULES in text for text in system)


def _last_user_text(messages: Sequence[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in reversed(message.parts):
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


def _latest_message(messages: Sequence[ModelMessage], info: AgentInfo) -> str:
    """The newest message, whole. In a group the prompt holds every message since the last
    answer, one JSON line each (`said_by`); the newest is the last line, read back."""
    text = _last_user_text(messages)
    if not _in_group(messages, info):
        return text
    said = read_said(text.split("\n")[-1])  # JSON escapes every "\n" inside a message
    return said[1] if said is not None else text


def _tool_results(messages: Sequence[ModelMessage]) -> list[ToolReturnPart]:
    """What came back from the tool calls of the last answer, if the last message holds that."""
    last = messages[-1] if messages else None
    if not isinstance(last, ModelRequest):
        return []
    return [part for part in last.parts if isinstance(part, ToolReturnPart)]


def _quote(text: str) -> str:
    """A tool's words as a Markdown blockquote that shows them as they are."""
    return "> " + literal(clipped(text.strip(), chars=RESULT_CHARS, lines=RESULT_LINES))


def _about_result(part: ToolReturnPart) -> list[str]:
    """Lines that say, truthfully, what became of one tool call: pydantic-ai's outcome first,
    then the shapes of the tool guard's answers (refused, declined, failed, framed output)."""
    name = literal(part.tool_name)
    content = part.model_response_str(wrap_if_error=False)
    declined = _DECLINED.fullmatch(content)
    if part.outcome == "denied" or declined:
        why = f"{literal(declined['who'])} did not allow it" if declined else "it was not allowed"
        return [f"I didn't use the **{name}** tool: {why}, so nothing was done."]
    if part.outcome == "retried":
        return [f"I couldn't use the **{name}** tool: it did not accept the request as I made it."]
    if part.outcome == "interrupted":
        return [f"The **{name}** tool was interrupted, so I have no result."]
    if match := _REFUSED.fullmatch(content):
        who, user = literal(match["who"]), literal(match["user"])
        return [f"I can't use the **{name}** tool for {user}: only {who} can, so nothing was done."]
    failed = _FAILED.fullmatch(content)
    if part.outcome == "failed" or failed:
        return [
            f"The **{name}** tool failed, so I have no result. It said:",
            _quote(failed["error"] if failed else content),
        ]
    framed = _FRAMED.search(content)
    return [
        f"Here is what the **{name}** tool says:",
        _quote(framed["text"] if framed else content),
        "",
        "_(offline model: I ran the tool, but I can't reason about the result.)_",
    ]


def _answer_to(results: list[ToolReturnPart]) -> str:
    lines: list[str] = []
    for part in results:
        lines += [*([""] if lines else []), *_about_result(part)]
    return "\n".join(lines)


def _hints(available: set[str]) -> list[str]:
    examples = [example for tool, example in EXAMPLES.items() if tool in available]
    if not examples:
        return []
    listed = ", ".join(examples[:-1]) + (" or " if len(examples) > 1 else "") + examples[-1]
    return ["", f"I can still run a few tools: ask me {listed}"]


def _hello(said: str, *, earlier: int, unclear: Unclear | None, available: set[str]) -> str:
    """The answer to a message that asks for no tool: what the offline model is, and an echo."""
    lines = [
        "I'm **Magpie**, running on the built-in *offline* model: no language model is "
        "configured, so I can't really think about your message yet.",
        "",
        f"You wrote: _{literal(said)}_" if said else "Your message had no text I could read.",
        *([unclear.reason] if unclear is not None else []),
        f"I can see {earlier} earlier answer{'s' if earlier != 1 else ''} of mine in this "
        "conversation, so history works.",
        *_hints(available),
        "",
        HOW_TO,
    ]
    return "\n".join(lines)


def _move(messages: Sequence[ModelMessage], info: AgentInfo) -> ToolCall | str:
    """What the offline model does next: a tool call for a plain request, else its answer's
    Markdown; the same for the same conversation."""
    results = _tool_results(messages)
    if results:
        return _answer_to(results)
    available = {tool.name for tool in info.function_tools}
    message = _latest_message(messages, info)
    reading = read_request(message, available)
    if isinstance(reading, ToolCall):
        return reading
    said = clipped(clean_reply(message).strip(), chars=QUOTE_CHARS, lines=QUOTE_LINES)
    earlier = sum(isinstance(m, ModelResponse) for m in messages)
    return _hello(said, earlier=earlier, unclear=reading, available=available)


def _streaming(words_per_second: float) -> StreamFunctionDef:
    async def stream(
        messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | DeltaToolCalls]:
        decided = _move(messages, info)
        if isinstance(decided, ToolCall):
            yield {0: DeltaToolCall(name=decided.tool, json_args=json.dumps(decided.arguments))}
            return
        for index, piece in enumerate(pieces(decided)):
            if index and words_per_second > 0:
                await asyncio.sleep(len(piece.split()) / words_per_second)  # a model's pace
            yield piece

    return stream


def _reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    decided = _move(messages, info)
    part = (
        ToolCallPart(decided.tool, decided.arguments)
        if isinstance(decided, ToolCall)
        else TextPart(decided)
    )
    return ModelResponse(parts=[part], model_name=OFFLINE_NAME)


def offline_model(*, words_per_second: float = 0.0) -> FunctionModel:
    return FunctionModel(
        _reply, stream_function=_streaming(words_per_second), model_name=OFFLINE_NAME
    )
