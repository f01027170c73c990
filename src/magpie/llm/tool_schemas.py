"""Tool schemas fitted to a vendor once per tool, not on every request.

A vendor model in pydantic-ai rewrites every tool's JSON schema for its API (OpenAI's strict
mode, Gemini's subset of JSON Schema…) with its profile's `json_schema_transformer`, on every
request — and a layer above it that prepares the request (a `FallbackModel`, Magpie's primer)
makes it do so again. Magpie offers the same few tools on every turn, so the fitted schemas are
kept: the vendor model is built with no transformer of its own (its profile says
`json_schema_transformer=None`, a documented profile setting), and `FittedTools` in front of it
applies that same transformer once per tool definition, the way pydantic-ai does
(`Model.customize_request_parameters`: the walked schema; `strict` inferred from it when the
tool does not say).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.profiles import JsonSchemaTransformer, ModelProfile, ModelProfileSpec
from pydantic_ai.tools import ToolDefinition

if TYPE_CHECKING:
    from pydantic_ai import RunContext
    from pydantic_ai.messages import ModelMessage, ModelResponse
    from pydantic_ai.settings import ModelSettings

# Tool definitions are shared by turns (the runner keeps one set per combination of tools), so a
# few hundred entries hold every tool of every MCP server a bot is likely to have.
FITTED_TOOLS_KEPT = 512


def fitted_once(make: Callable[[ModelProfileSpec | None], Model]) -> Model:
    """The model `make` builds, with its tool schemas fitted once per tool.

    `make(profile)` builds the vendor model with `profile` as its `profile=` argument (None: the
    provider's own)."""
    model = make(None)
    transformer = model.profile.get("json_schema_transformer")
    if transformer is None:
        return model
    return FittedTools(make(ModelProfile(json_schema_transformer=None)), transformer)


class FittedTools(WrapperModel):
    """`wrapped` (built without a schema transformer), its tools fitted by `transformer`."""

    def __init__(self, wrapped: Model, transformer: type[JsonSchemaTransformer]) -> None:
        super().__init__(wrapped)
        self.transformer = transformer
        # id(definition) -> (definition, fitted); the definition is kept so its id stays its own
        self._fitted: LRUCache[int, tuple[ToolDefinition, ToolDefinition]] = LRUCache(
            FITTED_TOOLS_KEPT
        )

    def fit(self, parameters: ModelRequestParameters) -> ModelRequestParameters:
        """The request's parameters with every tool's schema fitted to the vendor."""
        if not parameters.function_tools and not parameters.output_tools:
            return parameters
        return replace(
            parameters,
            function_tools=[self._tool(tool) for tool in parameters.function_tools],
            output_tools=[self._tool(tool) for tool in parameters.output_tools],
        )

    def _tool(self, tool: ToolDefinition) -> ToolDefinition:
        kept = self._fitted.get(id(tool))
        if kept is not None and kept[0] is tool:
            return kept[1]
        schema = self.transformer(tool.parameters_json_schema, strict=tool.strict)
        fitted = replace(
            tool,
            parameters_json_schema=schema.walk(),
            strict=schema.is_strict_compatible if tool.strict is None else tool.strict,
        )
        self._fitted[id(tool)] = (tool, fitted)
        return fitted

    def customize_request_parameters(
        self, model_request_parameters: ModelRequestParameters
    ) -> ModelRequestParameters:
        return self.fit(model_request_parameters)

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        return await self.wrapped.request(
            messages, model_settings, self.fit(model_request_parameters)
        )

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        async with self.wrapped.request_stream(
            messages, model_settings, self.fit(model_request_parameters), run_context
        ) as response:
            yield response
