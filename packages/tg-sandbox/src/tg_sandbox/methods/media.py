"""Photos, documents, voice, audio and video: multipart uploads, file ids, getFile."""

from __future__ import annotations

from typing import Any

from tg_sandbox.errors import bad_request, required
from tg_sandbox.methods.call import Call
from tg_sandbox.methods.common import parse_formatted, send
from tg_sandbox.model import StoredFile
from tg_sandbox.params import Upload
from tg_sandbox.render import DOWNLOAD_LIMIT, file_json, media_fields
from tg_sandbox.world import World

PHOTO_LIMIT = 10 * 1024 * 1024
FILE_LIMIT = 50 * 1024 * 1024


def resolve_input_file(world: World, kind: str, value: Upload | str | None) -> StoredFile:
    """An uploaded part becomes a stored file; a string must name a known file_id."""
    if value is None:
        raise required(kind)
    if isinstance(value, Upload):
        if not value.data:
            raise bad_request("file must be non-empty")
        limit = PHOTO_LIMIT if kind == "photo" else FILE_LIMIT
        if len(value.data) > limit:
            raise bad_request("file is too big")
        return world.store_file(
            value.data,
            kind=kind,
            file_name=value.filename or None,
            mime_type=value.content_type or None,
        )
    stored = world.files.get(value.strip())
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return stored


async def _send_media(call: Call, kind: str) -> dict[str, Any]:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    stored = resolve_input_file(call.world, kind, call.params.upload(kind))
    caption, entities = parse_formatted(
        call, text_key="caption", entities_key="caption_entities", caption=True
    )
    content: dict[str, Any] = {kind: media_fields(kind, stored, call.params.values)}
    if caption:
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    return send(call, chat, content)


async def send_photo(call: Call) -> dict[str, Any]:
    return await _send_media(call, "photo")


async def send_document(call: Call) -> dict[str, Any]:
    return await _send_media(call, "document")


async def send_voice(call: Call) -> dict[str, Any]:
    return await _send_media(call, "voice")


async def send_audio(call: Call) -> dict[str, Any]:
    return await _send_media(call, "audio")


async def send_video(call: Call) -> dict[str, Any]:
    return await _send_media(call, "video")


async def get_file(call: Call) -> dict[str, Any]:
    file_id = (call.params.get("file_id") or "").strip()
    if not file_id:
        raise bad_request("file_id not specified")
    stored = call.world.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > DOWNLOAD_LIMIT:
        raise bad_request("file is too big")
    return file_json(stored, with_path=True)
