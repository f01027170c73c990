"""A tool as Magpie knows it: a typed async function plus who may use it and what it touches."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, get_type_hints

from pydantic import create_model

from magpie.tools.deps import ToolDeps

ToolFunction = Callable[..., Awaitable[str]]


class ToolFailure(Exception):
    """A tool ran but could not do its job; the message goes to the model (framed as data)."""


class Access(StrEnum):
    """Who may have a tool run on their behalf."""

    ANYONE = "anyone"
    CHAT_ADMINS = "chat_admins"
    BOT_ADMINS = "bot_admins"


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One tool: `function(deps, **arguments) -> str`, its schema, access and side effects."""

    name: str
    description: str
    function: ToolFunction
    parameters: dict[str, Any] = field(default_factory=dict)  # JSON schema of the arguments
    access: Access = Access.ANYONE
    side_effects: bool = False
    status: str = "working…"
    source: str = "builtin"

    def allows(self, deps: ToolDeps) -> bool:
        """Tools act with the invoking person's permissions."""
        if self.access is Access.BOT_ADMINS:
            return deps.is_bot_admin
        if self.access is Access.CHAT_ADMINS:
            return deps.is_chat_admin or deps.is_bot_admin
        return True


def describe(function: ToolFunction) -> tuple[str, dict[str, Any]]:
    """The docstring and the JSON schema of a tool function's arguments (all but `deps`)."""
    signature = inspect.signature(function)
    hints = get_type_hints(function)
    fields: dict[str, Any] = {}
    for name, parameter in list(signature.parameters.items())[1:]:
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[name] = (hints.get(name, str), default)
    model = create_model(f"{function.__name__}_arguments", **fields)
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return inspect.getdoc(function) or function.__name__, schema


def tool(
    function: ToolFunction,
    *,
    access: Access = Access.ANYONE,
    side_effects: bool = False,
    status: str = "working…",
) -> ToolSpec:
    """A built-in tool from a typed async function; the docstring is what the model reads."""
    description, parameters = describe(function)
    return ToolSpec(
        name=function.__name__,
        description=description,
        function=function,
        parameters=parameters,
        access=access,
        side_effects=side_effects,
        status=status,
    )
