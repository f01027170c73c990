"""Showing work in progress: chat actions and streamed drafts (Bot API 10.3)."""

from __future__ import annotations

from tg_sandbox.errors import bad_request
from tg_sandbox.methods.call import Call
from tg_sandbox.methods.common import parse_formatted, thread_id
from tg_sandbox.model import Draft

ACTIONS = {
    "typing": "typing",
    "upload_photo": "upload_photo",
    "record_video": "record_video",
    "upload_video": "upload_video",
    "record_voice": "record_voice",
    "record_audio": "record_voice",
    "upload_voice": "upload_voice",
    "upload_audio": "upload_voice",
    "upload_document": "upload_document",
    "choose_sticker": "choose_sticker",
    "find_location": "find_location",
    "pick_up_location": "find_location",
    "record_video_note": "record_video_note",
    "upload_video_note": "upload_video_note",
    "cancel": "cancel",
}


async def send_chat_action(call: Call) -> bool:
    chat = call.world.resolve_chat(call.bot, call.params.get("chat_id"))
    action = (call.params.get("action") or "").strip().lower()
    if action not in ACTIONS:
        raise bad_request("wrong parameter action in request")
    thread_id(call, chat)
    call.world.ensure_can_send(call.bot, chat)
    return True


async def send_message_draft(call: Call) -> bool:
    world, bot, params = call.world, call.bot, call.params
    chat_raw = params.get("chat_id")
    if chat_raw is None or not chat_raw.strip().lstrip("-").isdigit() or int(chat_raw) <= 0:
        raise bad_request("TEXTDRAFT_PEER_INVALID")
    chat = world.resolve_chat(bot, chat_raw)
    draft_id = params.integer("draft_id")
    if draft_id == 0:
        raise bad_request('parameter "draft_id" must be non-zero')
    text, entities = parse_formatted(call, text_key="text", allow_empty=True)
    topic = params.integer("message_thread_id") if params.has("message_thread_id") else None
    world.ensure_can_send(bot, chat)
    world.flood.spend(bot.id, chat.id, is_group=False)
    key = (chat.id, draft_id)
    previous = bot.drafts.get(key)
    bot.drafts[key] = Draft(
        chat_id=chat.id,
        draft_id=draft_id,
        text=text,
        entities=entities,
        thread_id=topic,
        can_stop=params.flag("can_stop"),
        keep_on_stop=params.flag("keep_on_stop"),
        updated_at=world.clock.now(),
        updates=(previous.updates + 1) if previous else 1,
    )
    return True
