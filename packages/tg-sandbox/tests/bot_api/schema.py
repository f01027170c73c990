"""Validate JSON the sandbox emits against the official Bot API 10.3 schema.

The tables come from bot_api_10.3.json (vendored from aiogram's schema by vendor.py). A value
conforms when every required field is present, no unknown field appears, scalar kinds match,
nothing is null (the real server omits optional fields) and unions resolve to one member.
"""

from __future__ import annotations

import functools
import json
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
from aiogram import methods as aiogram_methods
from aiogram.methods.base import Response, TelegramMethod

SCHEMA_FILE = Path(__file__).with_name("bot_api_10.3.json")
ARRAY = "Array of "
_ATTACHMENT = re.compile(r"attach://([\w.-]+)")


class SchemaViolation(AssertionError):
    """A value does not conform to the Bot API schema; the message lists every problem."""

    def __init__(self, subject: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{subject}: {len(problems)} problem(s)\n  " + "\n  ".join(problems))


@functools.cache
def _schema() -> dict[str, Any]:
    """The vendored tables, loaded once."""
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def api_version() -> str:
    """The Bot API version the vendored tables describe."""
    return str(_schema()["version"])


def method_names() -> frozenset[str]:
    """Every Bot API method name, spelled as in the docs (e.g. "sendMessage")."""
    return frozenset(_schema()["methods"])


@functools.cache
def _methods_by_lower_name() -> dict[str, str]:
    """Map a lower-cased method name to its documented spelling."""
    return {name.lower(): name for name in _schema()["methods"]}


def _canonical_method(method: str) -> str:
    """The documented spelling of a method name given in any case."""
    try:
        return _methods_by_lower_name()[method.lower()]
    except KeyError:
        raise SchemaViolation(
            "method", [f"{method}: not a Bot API {api_version()} method"]
        ) from None


# --- value checks -------------------------------------------------------------------------

_SCALARS: dict[str, Callable[[object], bool]] = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "String": lambda v: isinstance(v, str),
    "Boolean": lambda v: isinstance(v, bool),
    "True": lambda v: v is True,
    "InputFile": lambda v: False,  # an upload sent as a multipart part, never inside JSON
}


def _at(path: str, text: str) -> str:
    """One problem line, located by its path."""
    return f"{path or '<root>'}: {text}"


def _join(path: str, key: str) -> str:
    """Dotted path of a field under path."""
    return f"{path}.{key}" if path else key


def _describe(value: object) -> str:
    """Short human description of a JSON value for error messages."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    return f"{type(value).__name__} {shown}"


def _problems(expr: str, value: object, path: str) -> list[str]:
    """Every way value fails a type expression (e.g. "Array of Message", "Integer or String")."""
    if value is None:
        return [_at(path, "null (the Bot API omits absent fields, never sends null)")]
    if expr.startswith(ARRAY):
        if not isinstance(value, list):
            return [_at(path, f"expected {expr}, got {_describe(value)}")]
        item = expr.removeprefix(ARRAY)
        return [p for i, elem in enumerate(value) for p in _problems(item, elem, f"{path}[{i}]")]
    alternatives = expr.split(" or ")
    if len(alternatives) > 1:
        return _one_of(expr, alternatives, value, path)
    if expr in _SCALARS:
        return _scalar_problems(expr, value, path)
    spec = _schema()["types"][expr]
    if "one_of" in spec:
        return _one_of(expr, spec["one_of"], value, path)
    return _object_problems(expr, spec["fields"], value, path)


def _scalar_problems(kind: str, value: object, path: str) -> list[str]:
    """Problems of value against a scalar kind such as Integer or True."""
    return [] if _SCALARS[kind](value) else [_at(path, f"expected {kind}, got {_describe(value)}")]


def _object_problems(
    name: str, fields: dict[str, list[Any]], value: object, path: str
) -> list[str]:
    """Problems of value against an object type's field table."""
    if not isinstance(value, dict):
        return [_at(path, f"expected {name} object, got {_describe(value)}")]
    problems = [
        _at(_join(path, key), f"unknown field of {name}") for key in value if key not in fields
    ]
    for key, (field_type, required, *constant) in fields.items():
        where = _join(path, key)
        if key not in value:
            problems += [_at(where, f"missing required field of {name}")] if required else []
        elif constant and value[key] != constant[0]:
            problems.append(
                _at(where, f"{name} needs {constant[0]!r}, got {_describe(value[key])}")
            )
        else:
            problems += _problems(field_type, value[key], where)
    return problems


def _one_of(name: str, members: list[str], value: object, path: str) -> list[str]:
    """Accept value if a member fits; else report the closest one, trying marked members first."""
    candidates = [member for member in members if _marked_as(member, value)] or members
    attempts: dict[str, list[str]] = {}
    for member in candidates:
        attempts[member] = _problems(member, value, path)
        if not attempts[member]:
            return []
    closest = min(candidates, key=lambda member: len(attempts[member]))
    return [_at(path, f"fits no member of {name}; closest is {closest}:"), *attempts[closest]]


def _marked_as(member: str, value: object) -> bool:
    """Whether value carries the discriminator constants (e.g. type == "user") of member."""
    fields = _schema()["types"].get(member, {}).get("fields", {})
    constants = [(key, rest[0]) for key, (_, _, *rest) in fields.items() if rest]
    if not constants or not isinstance(value, dict):
        return False
    return all(key in value and value[key] == constant for key, constant in constants)


def _named_parts(expr: str) -> list[str]:
    """The type names a type expression mentions."""
    while expr.startswith(ARRAY):
        expr = expr.removeprefix(ARRAY)
    return expr.split(" or ")


def _require_known(expr: str) -> None:
    """Reject a type expression naming something the schema does not define (a test bug)."""
    for name in _named_parts(expr):
        if name not in _SCALARS and name not in _schema()["types"]:
            raise ValueError(f"{name!r} is not a Bot API {api_version()} type")


def check_object(type_name: str, value: object, *, path: str = "") -> None:
    """Raise SchemaViolation unless value conforms to a Bot API type or type expression."""
    _require_known(type_name)
    problems = _problems(type_name, value, path)
    if problems:
        raise SchemaViolation(path or type_name, problems)


# --- methods ------------------------------------------------------------------------------


@functools.cache
def _aiogram_methods() -> dict[str, type[TelegramMethod[Any]]]:
    """aiogram's method classes keyed by their Bot API method name."""
    found = (getattr(aiogram_methods, name) for name in dir(aiogram_methods))
    return {
        cls.__api_method__: cls
        for cls in found
        if isinstance(cls, type) and issubclass(cls, TelegramMethod) and cls is not TelegramMethod
    }


@functools.cache
def _unions_by_members() -> dict[frozenset[str], str]:
    """Map a union's set of members to its name, so aiogram's A | B | C reads as the union."""
    types_ = _schema()["types"]
    return {frozenset(spec["one_of"]): name for name, spec in types_.items() if "one_of" in spec}


def _expr_of(annotation: object) -> str:
    """Schema type expression of an aiogram annotation: Message | bool → "Message or True"."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        arms = [_expr_of(arm) for arm in typing.get_args(annotation)]
        if any(arm.startswith(ARRAY) for arm in arms):
            raise TypeError(f"cannot express {annotation!r} as a Bot API type string")
        return _unions_by_members().get(frozenset(arms), " or ".join(arms))
    if typing.get_origin(annotation) is list:
        return ARRAY + _expr_of(typing.get_args(annotation)[0])
    # Every bool-returning Bot API method documents "Returns True on success".
    scalars: dict[object, str] = {bool: "True", int: "Integer", str: "String", float: "Float"}
    if annotation in scalars:
        return scalars[annotation]
    return str(getattr(annotation, "__name__", annotation))


def return_type(method: str) -> str:
    """Schema type expression a method returns on success, derived from aiogram."""
    return _expr_of(_aiogram_methods()[_canonical_method(method)].__returning__)


def check_method_result(method: str, result: object) -> None:
    """Raise SchemaViolation unless result is what the method returns, by schema and by aiogram."""
    name = _canonical_method(method)
    problems = _problems(return_type(name), result, "result")
    returning = _aiogram_methods()[name].__returning__
    try:
        Response[returning].model_validate({"ok": True, "result": result})  # type: ignore[valid-type]
    except pydantic.ValidationError as error:
        problems.append(f"result: aiogram cannot parse it: {_summary(error)}")
    if problems:
        raise SchemaViolation(f"{name} result", problems)


def _summary(error: pydantic.ValidationError) -> str:
    """The first of pydantic's errors on one line, with the total count."""
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{error.error_count()} error(s), first at {where}: {first['msg']}"


def check_method_params(method: str, params: dict[str, object]) -> None:
    """Raise SchemaViolation if the client sent a parameter the method does not have."""
    name = _canonical_method(method)
    known = _schema()["methods"][name]
    attached = _attachments(params)
    unknown = [key for key in params if key not in known and key not in attached]
    if unknown:
        raise SchemaViolation(name, [f"{key}: not a parameter of {name}" for key in unknown])


def _attachments(params: dict[str, object]) -> set[str]:
    """Multipart part names the parameters point at with attach://<name>."""
    return {name for value in params.values() for name in _ATTACHMENT.findall(str(value))}
