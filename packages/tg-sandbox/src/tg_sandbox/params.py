"""Bot API call parameters from the query string, urlencoded, JSON or multipart bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from tg_sandbox.errors import ApiError, bad_request, required

MAX_BODY_BYTES = 60 * 1024 * 1024
TRUE_WORDS = frozenset({"true", "yes", "1"})


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


def _as_text(value: Any) -> str:
    """JSON body values become the strings a form would have carried."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


@dataclass(slots=True)
class Params:
    """The arguments of one call: text values plus uploaded file parts."""

    values: dict[str, str]
    uploads: dict[str, Upload]

    @classmethod
    def of(cls, values: dict[str, Any] | None = None) -> Params:
        return cls({k: _as_text(v) for k, v in (values or {}).items() if v is not None}, {})

    def has(self, name: str) -> bool:
        return name in self.values or name in self.uploads

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)

    def text(self, name: str) -> str:
        """A required string parameter."""
        value = self.values.get(name)
        if value is None:
            raise required(name)
        return value

    def integer(
        self, name: str, default: int = 0, *, lo: int | None = None, hi: int | None = None
    ) -> int:
        """Integers as Telegram reads them: unparsable is 0, out of range is clamped."""
        raw = self.values.get(name)
        if raw is None:
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            try:
                value = int(float(raw))
            except (ValueError, OverflowError):
                value = 0
        if lo is not None:
            value = max(lo, value)
        if hi is not None:
            value = min(hi, value)
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.values.get(name)
        return default if raw is None else raw.strip().lower() in TRUE_WORDS

    def json(self, name: str, error: str) -> Any:
        """A JSON-serialized parameter; `error` is the Bad Request text when it does not parse."""
        raw = self.values.get(name)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise bad_request(error) from None

    def upload(self, name: str) -> Upload | str | None:
        """An InputFile: an uploaded part (directly or via attach://), or a file_id/URL string."""
        if name in self.uploads:
            return self.uploads[name]
        raw = self.values.get(name)
        if raw is None:
            return None
        if raw.startswith("attach://"):
            part = self.uploads.get(raw.removeprefix("attach://"))
            if part is None:
                raise bad_request(f"file of type {name} not found in the request")
            return part
        return raw

    def public(self) -> dict[str, Any]:
        """What the transcript shows: values, with uploads summarised."""
        shown: dict[str, Any] = dict(self.values)
        for key, upload in self.uploads.items():
            shown[key] = {"filename": upload.filename, "size": len(upload.data)}
        return shown


async def read_params(request: web.Request) -> Params:
    """Collect parameters the way the Bot API server does: query string first, then the body."""
    values: dict[str, str] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.can_read_body:
        try:
            await _read_body(request, values, uploads)
        except ApiError:
            raise
        except (ValueError, UnicodeDecodeError, AssertionError):
            raise bad_request("can't parse request body") from None
    return Params(values, uploads)


async def _read_body(
    request: web.Request, values: dict[str, str], uploads: dict[str, Upload]
) -> None:
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        values.update({k: _as_text(v) for k, v in body.items() if v is not None})
    elif ctype == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            data = await part.read(decode=True)
            if part.filename is not None:
                uploads[part.name] = Upload(
                    part.filename, part.headers.get("Content-Type", ""), bytes(data)
                )
            else:
                values[part.name] = bytes(data).decode("utf-8", errors="replace")
    else:
        form = await request.post()
        values.update({k: v for k, v in form.items() if isinstance(v, str)})


def json_int(value: Any) -> int | None:
    """An integer from a JSON value the way Telegram reads one (numbers or numeric strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None
