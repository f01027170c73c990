"""Magpie fits its tools' schemas to a vendor once; what reaches the vendor must not change.

Each vendor model is built the way Magpie builds it and, beside it, the way pydantic-ai builds
it by default (its own schema transformer on every request); both ask the fake vendor with the
built-in tools and a tool of an MCP-like shape, and the tools on the wire must be the same.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic_ai.direct import model_request_stream
from pydantic_ai.messages import ModelRequest
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.tools import ToolDefinition

from magpie.llm.steps import definitions
from magpie.llm.tool_schemas import FittedTools
from magpie.tools.catalog import builtin_tools
from tests.fakes.llm_vendors import FakeLLMVendors, Reply
from tests.llm.conftest import ANTHROPIC, GEMINI, OPENAI

NESTED = ToolDefinition(  # the kind of schema MCP servers send: nested objects, refs, no strict
    name="book_table",
    description="Book a table.",
    parameters_json_schema={
        "type": "object",
        "$defs": {
            "Guest": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                "required": ["name"],
            }
        },
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "guests": {"type": "array", "items": {"$ref": "#/$defs/Guest"}},
        },
        "required": ["when"],
    },
)


def offered() -> ModelRequestParameters:
    tools = [*definitions(builtin_tools()), NESTED]
    return ModelRequestParameters(function_tools=tools, allow_text_output=True)


async def tools_sent(model: Model, fake: FakeLLMVendors, parameters: ModelRequestParameters) -> Any:
    fake.enqueue(Reply("ok"))
    before = len(fake.requests)
    async with model_request_stream(
        model, [ModelRequest.user_text_prompt("hi")], model_request_parameters=parameters
    ) as stream:
        async for _ in stream:
            pass
    (request,) = fake.requests[before:]
    return request.raw["tools"]


def unfitted(model: Model) -> Model:
    """The same vendor model as pydantic-ai builds it: transforming schemas itself."""
    assert isinstance(model, FittedTools)
    vendor = model.wrapped
    return type(vendor)(vendor.model_name, provider=vendor.provider)  # type: ignore[call-arg]


@pytest.mark.parametrize("label", [OPENAI, ANTHROPIC, GEMINI])
async def test_tools_reach_the_vendor_exactly_as_pydantic_ai_would_send_them(
    label: str, vendor_models: dict[str, Model], fake: FakeLLMVendors
) -> None:
    magpies = vendor_models[label]
    parameters = offered()
    reference = await tools_sent(unfitted(magpies), fake, parameters)
    first = await tools_sent(magpies, fake, parameters)
    again = await tools_sent(magpies, fake, parameters)  # from what was fitted the first time
    assert first == reference
    assert again == reference
    assert all(tool.name in json.dumps(reference) for tool in parameters.function_tools)


async def test_a_tool_that_changes_is_fitted_anew(
    vendor_models: dict[str, Model], fake: FakeLLMVendors
) -> None:
    model = vendor_models[OPENAI]
    one = ModelRequestParameters(function_tools=[NESTED])
    renamed = ToolDefinition(
        name="book_room",
        description="Book a room.",
        parameters_json_schema={"type": "object", "properties": {"nights": {"type": "integer"}}},
    )
    two = ModelRequestParameters(function_tools=[renamed])
    assert (await tools_sent(model, fake, one))[0]["function"]["name"] == "book_table"
    sent = (await tools_sent(model, fake, two))[0]["function"]
    assert sent["name"] == "book_room"
    assert sent["parameters"]["properties"] == {"nights": {"type": "integer"}}
