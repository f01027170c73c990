"""The offline model: no key, no network, deterministic and honest about what it is.

It still exercises the whole pipeline: it reads the conversation history, streams its answer
in pieces and uses Markdown, so drafts, edits and formatting are visible in the demo.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

OFFLINE_NAME = "offline"
HOW_TO = (
    "To get real answers, set `LLM_MODEL` and a key, for example:\n"
    "```sh\n"
    "LLM_MODEL=openai:gpt-4o-mini OPENAI_API_KEY=sk-...\n"
    "LLM_MODEL=anthropic:claude-3-5-haiku-latest ANTHROPIC_API_KEY=...\n"
    "LLM_MODEL=ollama:llama3.2 OPENAI_BASE_URL=http://localhost:11434/v1\n"
    "```"
)


def _last_user_text(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in reversed(message.parts):
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


def offline_reply(messages: list[ModelMessage]) -> str:
    """What the offline model says: the same words for the same conversation."""
    said = _last_user_text(messages).strip()
    earlier = sum(isinstance(m, ModelResponse) for m in messages)
    quoted = said.splitlines()[-1] if said else ""
    if len(quoted) > 200:
        quoted = quoted[:200] + "…"
    lines = [
        "I'm **Magpie**, running on the built-in *offline* model: no language model is "
        "configured, so I can't really think about your message yet.",
        "",
        f"You wrote: _{quoted}_" if quoted else "Your message had no text I could read.",
        f"I can see {earlier} earlier answer{'s' if earlier != 1 else ''} of mine in this "
        "conversation, so history works.",
        "",
        HOW_TO,
    ]
    return "\n".join(lines)


async def _stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
    text = offline_reply(messages)
    words = text.split(" ")
    step = max(1, len(words) // 8)
    for start in range(0, len(words), step):
        chunk = " ".join(words[start : start + step])
        yield chunk if start + step >= len(words) else chunk + " "


def offline_model() -> FunctionModel:
    return FunctionModel(
        lambda messages, info: _sync_reply(messages),
        stream_function=_stream,
        model_name=OFFLINE_NAME,
    )


def _sync_reply(messages: list[ModelMessage]) -> ModelResponse:
    from pydantic_ai.messages import TextPart

    return ModelResponse(parts=[TextPart(offline_reply(messages))], model_name=OFFLINE_NAME)
