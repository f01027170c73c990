"""Regenerate the trimmed Bot API schema (bot_api_10.3.json) from aiogram's full schema.

Source: the aiogram 3.31.0 sdist on PyPI (not the wheel), file
``aiogram-3.31.0/.butcher/schema/schema.json`` (Bot API 10.3, 2026-08-24). Licence: MIT,
copyright aiogram's authors. Get it without a browser::

    pip download --no-deps --no-binary :all: aiogram==3.31.0 -d /tmp/aiogram
    tar xzf /tmp/aiogram/aiogram-3.31.0.tar.gz aiogram-3.31.0/.butcher/schema/schema.json
    python tests/bot_api/vendor.py aiogram-3.31.0/.butcher/schema/schema.json

The output keeps only what tests/bot_api/schema.py needs: per type either its fields
``{name: [type, required]}`` (plus a third element, the constant, for the discriminator field of a
union member such as ``MessageOriginUser.type == "user"``) or, for a union, the type expressions
of its members; per method its parameters ``{name: [type, required]}``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

VENDORED = Path(__file__).with_name("bot_api_10.3.json")
SOURCE_NOTE = "aiogram 3.31.0 sdist .butcher/schema/schema.json (MIT)"

_MEMBER_LINE = re.compile(r"^\s*-\s+([A-Z]\w+)\s*$", re.MULTILINE)
_ARRAY_MEMBER = re.compile(r"an Array of ([A-Z]\w+)")
_STRING_CONST = re.compile(r"(?:, always|, must be) '?(\w+)'?$")
_INTEGER_CONST = re.compile(r"^Always (\d+)\.")

Entry = dict[str, Any]


def entries(source: Entry) -> list[Entry]:
    """Every type and method entry of the full schema, in document order."""
    return [child for group in source["items"] for child in group["children"]]


def normalize_type(type_string: str) -> str:
    """Spell every alternative with " or " (one field lists them as "A, B and C")."""
    return re.sub(r", | and ", " or ", type_string)


def union_members(entry: Entry, type_names: set[str]) -> list[str]:
    """Member type expressions of a union type; empty for a plain type."""
    if entry["annotations"]:
        return []
    description = entry["description"]
    extra = ["String"] if "a String for plain text" in description else []
    extra += [f"Array of {name}" for name in _ARRAY_MEMBER.findall(description)]
    listed = [name for name in _MEMBER_LINE.findall(description) if name in type_names]
    return extra + listed if listed else []


def discriminator(annotation: Entry) -> str | int | None:
    """The constant a union member's discriminator field always holds, if this is one."""
    description = annotation["description"].strip()
    if annotation["type"] == "String" and annotation["required"]:
        match = _STRING_CONST.search(description)
        return match.group(1) if match else None
    if annotation["type"] == "Integer" and annotation["required"]:
        match = _INTEGER_CONST.search(description)
        return int(match.group(1)) if match else None
    return None


def field_table(entry: Entry, *, with_constants: bool) -> dict[str, list[Any]]:
    """Map each field or parameter to [type, required] (and the constant, if asked and known)."""
    table: dict[str, list[Any]] = {}
    for annotation in entry["annotations"]:
        spec: list[Any] = [normalize_type(annotation["type"]), annotation["required"]]
        constant = discriminator(annotation) if with_constants else None
        table[annotation["name"]] = [*spec, constant] if constant is not None else spec
    return table


def trim(source: Entry) -> Entry:
    """Reduce the full aiogram schema to the validation tables."""
    all_entries = entries(source)
    type_entries = [entry for entry in all_entries if entry["name"][0].isupper()]
    type_names = {entry["name"] for entry in type_entries}
    unions = {entry["name"]: union_members(entry, type_names) for entry in type_entries}
    members = {name for listed in unions.values() for name in listed}
    types: Entry = {}
    for entry in type_entries:
        name = entry["name"]
        if unions[name]:
            types[name] = {"one_of": unions[name]}
        else:
            types[name] = {"fields": field_table(entry, with_constants=name in members)}
    methods = {
        entry["name"]: field_table(entry, with_constants=False)
        for entry in all_entries
        if entry["name"][0].islower()
    }
    api = source["api"]
    return {
        "version": api["version"],
        "release_date": api["release_date"],
        "source": SOURCE_NOTE,
        "types": types,
        "methods": methods,
    }


def render(trimmed: Entry) -> str:
    """Compact JSON with one type or method per line, so diffs stay readable."""

    def compact(value: object) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def block(table: Entry) -> str:
        return ",\n".join(f"{compact(name)}:{compact(spec)}" for name, spec in table.items())

    header = ",".join(
        f"{compact(key)}:{compact(trimmed[key])}" for key in ("version", "release_date", "source")
    )
    return (
        f'{{{header},\n"types":{{\n{block(trimmed["types"])}\n}},\n'
        f'"methods":{{\n{block(trimmed["methods"])}\n}}}}\n'
    )


def main(argv: list[str]) -> int:
    """Read the full schema named on the command line and write the vendored file."""
    if len(argv) not in (2, 3):
        print(f"usage: {argv[0]} SOURCE_SCHEMA_JSON [DEST]", file=sys.stderr)
        return 2
    destination = Path(argv[2]) if len(argv) == 3 else VENDORED
    source = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    destination.write_text(render(trim(source)), encoding="utf-8")
    print(f"wrote {destination} ({destination.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
