"""A pydantic-ai model behind the conversation's Model port: streaming text, usage, failures."""

from __future__ import annotations

from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    UserPromptPart,
)
from pydantic_ai.models import Model as VendorModel

from magpie.conversation.ports import TextSink
from magpie.conversation.turn import ModelFailure
from magpie.conversation.types import Completion, Prompt
from magpie.llm.errors import describe


def to_messages(prompt: Prompt) -> list[ModelMessage]:
    """Our provider-neutral history as pydantic-ai messages."""
    messages: list[ModelMessage] = []
    for item in prompt.history:
        if item.role == "user":
            messages.append(ModelRequest(parts=[UserPromptPart(item.text)]))
        else:
            messages.append(ModelResponse(parts=[TextPart(item.text)]))
    return messages


class AgentModel:
    """Runs one streamed request through a pydantic-ai Agent; text arrives as it grows."""

    def __init__(self, model: VendorModel, *, name: str, timeout: float = 120.0) -> None:
        self._name = name
        self._timeout = timeout
        self._agent: Agent[None, str] = Agent(model, output_type=str)

    @property
    def name(self) -> str:
        return self._name

    async def complete(self, prompt: Prompt, *, on_text: TextSink) -> Completion:
        try:
            async with self._agent.run_stream(
                prompt.message,
                message_history=to_messages(prompt),
                instructions=prompt.system,
                timeout=self._timeout,
            ) as run:
                async for text in run.stream_text(debounce_by=None):
                    await on_text(text)
                output = await run.get_output()
                usage = run.usage
        except ModelFailure:
            raise
        except Exception as error:
            if isinstance(error, KeyboardInterrupt):
                raise
            raise ModelFailure(describe(error)) from error
        return Completion(
            text=output,
            tokens_in=usage.input_tokens or 0,
            tokens_out=usage.output_tokens or 0,
            model=self._name,
        )
